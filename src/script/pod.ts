import type { V1Pod, V1Volume } from '@kubernetes/client-node';
import { UsageError } from '../errors.js';
import { CONTAINER_NAME } from '../pod/manifest.js';

/** Where the script is mounted in the container; the pod's own volume, so nothing in the image matters. */
export const SCRIPT_DIR = '/nixrun/script';
/** The annotation a local script travels in (a downward-API volume projects it as the file). */
export const SCRIPT_ANNOTATION = 'nixrun.dev/script';
/** The API server's limit for all of a pod's annotations together (apimachinery TotalAnnotationSizeLimitB). */
export const ANNOTATIONS_LIMIT_BYTES = 256 * 1024;
const VOLUME = 'nixrun-script';
// r-x for everyone: UID 65534 (restricted) reads it whatever fsGroup does; the interpreter runs it, so the x bit is for the script's own uses ($0).
const MODE = 0o555;

export interface PodScript {
  /** The file name under SCRIPT_DIR. */
  fileName: string;
  source: { kind: 'annotation'; text: string } | { kind: 'configMap'; name: string; key: string };
}

export function scriptPath(script: PodScript): string {
  return `${SCRIPT_DIR}/${script.fileName}`;
}

/**
 * Put the script into the pod. A local script becomes an annotation projected by a downward-API
 * volume: it is deleted with the pod, needs no permission beyond creating pods, and the manifest
 * stays one object. A ConfigMap's script is mounted from the ConfigMap, nothing copied.
 */
export function withScript(pod: V1Pod, script: PodScript): V1Pod {
  const spec = pod.spec!;
  const container = spec.containers.find((c) => c.name === CONTAINER_NAME) ?? spec.containers[0]!;
  let volume: V1Volume;
  if (script.source.kind === 'annotation') {
    pod.metadata = { ...pod.metadata, annotations: { ...pod.metadata?.annotations, [SCRIPT_ANNOTATION]: script.source.text } };
    const bytes = annotationBytes(pod.metadata.annotations!);
    if (bytes > ANNOTATIONS_LIMIT_BYTES) {
      throw new UsageError(
        `the script and the pod's other annotations take ${Math.ceil(bytes / 1024)} KiB, over the API server's 256 KiB limit for annotations`,
        'put the script in a ConfigMap (kubectl create configmap NAME --from-file=FILE) and run it with --configmap NAME',
      );
    }
    volume = { name: VOLUME, downwardAPI: { defaultMode: MODE, items: [{ path: script.fileName, fieldRef: { fieldPath: `metadata.annotations['${SCRIPT_ANNOTATION}']` }, mode: MODE }] } };
  } else {
    volume = { name: VOLUME, configMap: { name: script.source.name, defaultMode: MODE, items: [{ key: script.source.key, path: script.fileName, mode: MODE }] } };
  }
  spec.volumes = [...(spec.volumes ?? []), volume];
  container.volumeMounts = [...(container.volumeMounts ?? []), { name: VOLUME, mountPath: SCRIPT_DIR, readOnly: true }];
  return pod;
}

/** As the API server counts them: the bytes of every key and value. */
export function annotationBytes(annotations: Record<string, string>): number {
  return Object.entries(annotations).reduce((n, [k, v]) => n + Buffer.byteLength(k) + Buffer.byteLength(v), 0);
}

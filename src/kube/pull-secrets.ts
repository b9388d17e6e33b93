import type { CredentialSource } from '../image/preflight.js';
import { lookupDockerConfig, readDockerConfig, runCredentialHelper, type DockerConfig, type RegistryCredential } from '../image/registry-auth.js';
import type { Kube } from './client.js';
import { httpStatus } from './errors.js';

/**
 * Credentials for the pre-flight, where container tools look: the dockerconfigjson of each
 * --image-pull-secret (read through the API when the user may read Secrets; the node uses it
 * either way), then ~/.docker/config.json (auths, credHelpers, credsStore). Each place looked in is
 * listed for the error message; no secret value ever is.
 */
export async function registryCredentials(kube: Kube, secrets: string[], registry: string, env: NodeJS.ProcessEnv): Promise<CredentialSource> {
  const looked: string[] = [];
  const credentials: RegistryCredential[] = [];
  for (const name of secrets) {
    const where = `pull secret ${kube.namespace}/${name}`;
    try {
      const secret = await kube.core.readNamespacedSecret({ name, namespace: kube.namespace });
      const data = secret.data ?? {};
      const raw = data['.dockerconfigjson'] ?? data['.dockercfg'];
      if (!raw) {
        looked.push(`${where} (no .dockerconfigjson)`);
        continue;
      }
      const parsed = JSON.parse(Buffer.from(raw, 'base64').toString('utf8')) as DockerConfig & Record<string, unknown>;
      // The legacy .dockercfg is the auths map itself.
      const cfg: DockerConfig = data['.dockerconfigjson'] ? parsed : { auths: parsed as DockerConfig['auths'] };
      const { credential } = lookupDockerConfig({ auths: cfg.auths ?? {} }, registry, where);
      if (credential) credentials.push(credential);
      looked.push(credential ? where : `${where} (no entry for ${registry})`);
    } catch (err) {
      const status = httpStatus(err);
      looked.push(`${where} (${status === 403 ? 'not readable: forbidden' : status === 404 ? 'not found' : 'unreadable'})`);
    }
  }
  const docker = readDockerConfig(env);
  if (docker) {
    const where = docker.path.replace(env.HOME ?? '\0', '~');
    const { credential, helper } = lookupDockerConfig(docker.config, registry, where);
    if (credential) credentials.push(credential);
    else if (helper) {
      const fromHelper = await runCredentialHelper(helper, registry, env);
      if (fromHelper) credentials.push(fromHelper);
      looked.push(`docker-credential-${helper}${fromHelper ? '' : ' (nothing for this registry)'}`);
    }
    if (!helper) looked.push(credential ? where : `${where} (no entry for ${registry})`);
  } else looked.push('~/.docker/config.json (none)');
  return { looked, credentials };
}

import type { Kube, KubeTarget } from '../kube/client.js';

/**
 * What the commands reach the cluster through (gh's Factory): the real one loads the Kubernetes
 * client only when a command needs it; tests pass a stand-in that records the calls.
 */
export interface Factory {
  kube(target: KubeTarget, env: NodeJS.ProcessEnv): Promise<Kube>;
}

export const defaultFactory: Factory = {
  async kube(target, env) {
    const { connectAndAuthenticate } = await import('../kube/client.js');
    return connectAndAuthenticate(target, env);
  },
};

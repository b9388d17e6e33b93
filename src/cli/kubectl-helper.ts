// kubectl's completion helper for the plugin, one copy for both places that write it: the
// release archives (scripts/release.mjs imports this file as is) and `completion install`.
// A plain string module, so Node can load it without a build step.
export const KUBECTL_HELPER = `#!/bin/sh
# kubectl (1.26+) runs this to complete \`kubectl nixrun …\`; \`kubectl nixrun completion install\` puts it on your PATH.
exec kubectl-nixrun __complete "$@"
`;

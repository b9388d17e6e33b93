//go:build tools

// krew and krew's own manifest validator, to validate plugin-manifest.yaml and to install the
// plugin from a locally built archive in tests.
package tools

import (
	_ "sigs.k8s.io/krew/cmd/krew"
	_ "sigs.k8s.io/krew/cmd/validate-krew-manifest"
)

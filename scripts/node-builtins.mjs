// esbuild plugin: Node built-ins imported through process.getBuiltinModule() instead of ESM
// `import … from 'node:fs'`. For an ESM import Node builds a facade module that reads every
// export of the built-in once, which runs its lazy getters: `node:fs` loads fs.promises and
// its streams (6 ms of a 60 ms start, measured), `node:process` loads process.report (9 ms).
// Here each named import becomes a constant read from the module object, and the ones no code
// uses are dropped by tree-shaking (the reads are marked pure), so only what is used is read.
// Node ≥ 22.3 and Bun have process.getBuiltinModule.
import { builtinModules } from 'node:module';

const IDENT = /^[A-Za-z_$][\w$]*$/;

export function nodeBuiltinsPlugin() {
  return {
    name: 'node-builtins',
    setup(b) {
      b.onResolve({ filter: /^(node:)?[a-z_]+(\/[a-z_]+)*$/ }, (args) => {
        // require() of a built-in (CommonJS dependencies) makes no facade: left as it is.
        if (args.kind !== 'import-statement') return undefined;
        const id = args.path.replace(/^node:/, '');
        return builtinModules.includes(id) ? { path: id, namespace: 'node-builtin' } : undefined;
      });
      b.onLoad({ filter: /.*/, namespace: 'node-builtin' }, async (args) => {
        const names = Object.keys(await import(`node:${args.path}`)).filter((n) => n !== 'default' && IDENT.test(n));
        const lines = [
          `const __builtin = process.getBuiltinModule(${JSON.stringify(`node:${args.path}`)});`,
          'const __read = (name) => __builtin[name];',
          'export default __builtin;',
          ...names.map((n) => `export const ${n} = /* @__PURE__ */ __read(${JSON.stringify(n)});`),
        ];
        return { contents: lines.join('\n'), loader: 'js' };
      });
    },
  };
}

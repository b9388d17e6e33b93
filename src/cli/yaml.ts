// The YAML library behind one module the CLI imports lazily (it is the largest part of a run's
// start, and only `-o yaml` and a config file need it).
export { LineCounter, parseDocument, stringify } from 'yaml';

// The YAML library the config file is read with, behind one module the CLI imports lazily: only a
// config file needs it (its document model gives each key's line for the error messages).
export { LineCounter, parseDocument } from 'yaml';

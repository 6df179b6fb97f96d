// @vigil/cli: the `vigil` command. Other packages' tests build configurations the same way the
// command does through loadConfig.
export { loadConfig, ConfigError, commonPart } from './config/load.ts'
export type { VigilConfig, LoadedConfig, ConfigSource, SectionConfig, LoadOptions } from './config/load.ts'
export { formatEffectiveConfig } from './config/print.ts'
export { runCli } from './cli.ts'
export type { CliIo } from './io.ts'
export { COMPONENTS, type Component, type ComponentInfo } from './components.ts'
export { createSupervisor, type ChildSpec, type Supervisor } from './supervisor/supervisor.ts'
export { EXIT } from './exit-codes.ts'

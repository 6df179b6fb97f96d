// Standalone entry: `node --import tsx collector/src/main.ts [--config vigil.yaml] [--home DIR] …`, the same as
// `vigil collector …`: one configuration loader serves every entry point (cli/src/config/load.ts: the
// whole file validated at once, every problem listed, exit 78), and the component runs the way
// the supervisor runs it (signals, crash guard, clean stop). The only module of this file's
// package with side effects.
import { main } from '@vigil/cli/main.ts'

await main(['collector', ...process.argv.slice(2)])

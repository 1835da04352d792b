/** API process entry point: fail fast on bad configuration, stop cleanly on SIGINT/SIGTERM. */
import { ConfigError, loadConfig } from '../config';
import { startApi } from './server';

async function main(): Promise<void> {
  const api = await startApi(loadConfig());
  const stop = () => {
    api.logger.info('stopping');
    api.stop().then(() => process.exit(0), () => process.exit(1));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((err: unknown) => {
  console.error(err instanceof ConfigError ? err.message : err);
  process.exit(1);
});

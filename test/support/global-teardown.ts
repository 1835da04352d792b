export default async function globalTeardown(): Promise<void> {
  const services = globalThis.__shipshapeServices;
  if (!services) return;
  await services.temporal.stop();
  await services.pg.stop();
}

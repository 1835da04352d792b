/** A workflow that continues as new once, then waits for `finish`: for the lease reaper's run lookup. */
import { condition, continueAsNew, defineSignal, setHandler } from '@temporalio/workflow';

export const finish = defineSignal('finish');

export async function continueOnce(run: number): Promise<void> {
  if (run === 0) return continueAsNew<typeof continueOnce>(1);
  let finished = false;
  setHandler(finish, () => void (finished = true));
  await condition(() => finished);
}

import { LedgerCore1763800000000 } from './1763800000000-LedgerCore';

/** Every migration, oldest first. Listed explicitly so the app, the CLI and the tests run the same ones. */
export const migrations = [LedgerCore1763800000000];

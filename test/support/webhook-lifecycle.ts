import { ManualClock, systemClock, useClock } from '../../src/common/clock';
import { TestHub, startTestHub } from './hub';

/**
 * The lifecycle the webhook e2e files share, registered as jest hooks: a test hub with a coalition
 * named `name` (started before all tests, handed to `onHub`); each test on a fresh ManualClock
 * (handed to `onClock`) that replaces the process clock, so time is moved instead of slept; after
 * each test the system clock back and every endpoint deleted (an operator endpoint for "*" would
 * otherwise get the next test's events). The file closes the hub itself, after its own teardown.
 */
export function webhookTestLifecycle(name: string, onHub: (hub: TestHub) => void, onClock: (clock: ManualClock) => void): void {
  let hub: TestHub;
  beforeAll(async () => {
    hub = await startTestHub();
    onHub(hub);
    await hub.gql(`mutation($name: String!) { configureCoalition(input: { name: $name, currency: "EUR", donationValuePerPoint: "0.01" }) { userErrors { message } } }`, { name }, hub.admin);
  });
  beforeEach(() => {
    const clock = new ManualClock(new Date());
    useClock(clock);
    onClock(clock);
  });
  afterEach(async () => {
    useClock(systemClock);
    const listed = await hub.gql('{ webhookEndpoints { id } }', {}, hub.admin);
    for (const { id } of listed.data.webhookEndpoints) await hub.gql('mutation($id: ID!) { deleteWebhookEndpoint(input: { endpointId: $id }) { deletedId } }', { id }, hub.admin);
  });
}

/**
 * Why the demo's agents say they call each tool: one plausible sentence per
 * call, varied by tool, arguments and agent. Most go in the `intent` argument
 * mcptrail lists in each tool's schema (what any model would fill in); some
 * agents know mcptrail and send `_meta['io.mcptrail/intent']`; now and then a
 * refund states none, so the trail shows it refused (the policy requires one)
 * with the instruction the agent was given.
 */
import { INTENT_ARGUMENT, INTENT_META_KEY } from 'mcptrail/instrument';

const pick = <T>(items: readonly T[]): T => items[Math.floor(Math.random() * items.length)]!;

type Args = Record<string, unknown>;

const SEARCH: Record<string, ((a: Args) => string)[]> = {
  support: [
    (a) => `Look up ${a.query}'s contact record to answer their open support ticket.`,
    (a) => `Find ${a.query}'s phone number so the escalation can be called back today.`,
    (a) => `Check which company ${a.query} works for before replying to the ticket.`,
  ],
  billing: [
    (a) => `Find the billing contact named ${a.query} before resending the overdue invoice.`,
    (a) => `Confirm ${a.query} is the account's payer before discussing a refund.`,
  ],
  sales: [
    (a) => `Check whether ${a.query} is already a contact before creating a new lead.`,
    (a) => `Find ${a.query}'s details to prepare for tomorrow's renewal call.`,
  ],
  ops: [
    (a) => `Verify ${a.query}'s contact details for the quarterly account review.`,
    (a) => `Look up ${a.query} to route the incoming order to the right account owner.`,
  ],
  importer: [(a) => `Match an imported row against existing contacts named ${a.query} to avoid duplicates.`],
};

const DEAL_STAGE: Record<string, ((a: Args) => string)[]> = {
  qualified: [(a) => `Mark ${a.deal_id} qualified: the customer confirmed budget and timeline on the call.`],
  proposal: [(a) => `Move ${a.deal_id} to proposal now that the quote was sent.`, (a) => `Record that ${a.deal_id} has a proposal out, as the account owner asked.`],
  negotiation: [(a) => `Move ${a.deal_id} to negotiation: the customer asked for a discount on the quote.`],
  won: [(a) => `Mark ${a.deal_id} won: the signed order form arrived this morning.`, (a) => `Close ${a.deal_id} as won after the purchase order cleared.`],
  lost: [(a) => `Close ${a.deal_id} as lost: the customer chose a competitor.`, (a) => `Mark ${a.deal_id} lost after the customer went silent for 60 days.`],
};

const REFUND: ((a: Args) => string)[] = [
  (a) => `Refund ${a.amount} on ${a.deal_id}: the customer was charged twice this month.`,
  (a) => `Issue a goodwill refund of ${a.amount} on ${a.deal_id} for last week's outage.`,
  (a) => `Refund ${a.amount} on ${a.deal_id} because cancelled seats were still billed.`,
  (a) => `Return ${a.amount} on ${a.deal_id} as approved in the support escalation.`,
  (a) => `Refund the ${a.amount} late fee on ${a.deal_id} that was applied in error.`,
];

/** The agent's role, from its id (`acme-billing-bot` → billing). */
function roleOf(agentId: string): string {
  for (const role of ['support', 'billing', 'sales', 'ops', 'importer']) if (agentId.includes(role)) return role;
  return 'support';
}

/** The sentence an agent would state for this call. */
export function intentFor(agentId: string, tool: string, args: Args): string {
  switch (tool) {
    case 'crm.search_contacts':
      return pick(SEARCH[roleOf(agentId)] ?? SEARCH.support!)(args);
    case 'crm.update_deal':
      return pick(DEAL_STAGE[String(args.stage)] ?? DEAL_STAGE.proposal!)(args);
    case 'crm.issue_refund':
      return pick(REFUND)(args);
    default:
      return `Run ${tool} for the account review.`;
  }
}

/** Share of calls whose agent states the intent in `_meta` (it knows mcptrail) rather than in the argument. */
const META_SHARE = 0.25;
/** Share of refunds that state no intent (refused, recorded: the policy requires one). */
const REFUND_WITHOUT_INTENT = 0.1;
/** Share of other calls that state none (allowed: the policy is optional there). */
const OTHER_WITHOUT_INTENT = 0.05;

/** The call's arguments and `_meta` with its intent in one channel, or in none. */
export function withIntent(agentId: string, tool: string, args: Args, meta: Record<string, string>): { args: Args; meta: Record<string, string> } {
  const none = Math.random() < (tool === 'crm.issue_refund' ? REFUND_WITHOUT_INTENT : OTHER_WITHOUT_INTENT);
  if (none) return { args, meta };
  const intent = intentFor(agentId, tool, args);
  if (Math.random() < META_SHARE) return { args, meta: { ...meta, [INTENT_META_KEY]: intent } };
  return { args: { ...args, [INTENT_ARGUMENT]: intent }, meta };
}

"""Promotions: Talon.One's rule engine over Patron's one customer model.

Here now — the pure engine, no storage, no HTTP:

* :mod:`.talang` — the rule language (Talang as JSON): a table of functions,
  a compiler that refuses unknown functions, wrong arguments and unknown
  paths with the rule and JSON pointer at fault (:class:`RulesetInvalid`,
  an ``Invalid``), and compiled rules that evaluate as closures;
* :mod:`.model` — what an evaluation looks at (session, profile, event,
  coupons, referral, loyalty balances, counters, the event-history port);
* :mod:`.campaigns` — campaigns, their limits and which of them run;
* :mod:`.evaluate` — ``evaluate(context, campaigns, now)``: the session's
  effects in Talon's order, rule failure reasons with human details, the
  coupon and referral verdicts (:mod:`.verdicts`: every rejection reason,
  in a fixed precedence), the codes rules created; with :mod:`.engine` (one
  campaign's rules), :mod:`.ledger` and :mod:`.grants` (discount pools and
  budgets), :mod:`.explain` (failure details), :mod:`.effects` (Talon's
  effect types, the rollbacks included), :mod:`.money` and :mod:`.codes`;
* :mod:`.cache` — compiled campaigns per application, recompiled when the
  application's promotions version moves; :mod:`.ports` — what it reads.

Not yet: storing applications, campaigns, rulesets, coupons, referrals,
loyalty ledgers and audiences; redeeming on close and rolling back on
cancel; the Integration and Management APIs and the CLI — they come next,
on top of this.

It sits above people and customer segments: rules may ask about a
customer's segments and event history, which the caller passes in.
"""

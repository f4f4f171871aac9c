/**
 * The commented starter `lanes.yaml` that `lanes init` writes: one team of five
 * people that already passes `lanes check`, with every section shown once.
 */
export const STARTER_CHARTER = `# yaml-language-server: $schema=./lanes.schema.json
# ↑ That first line lets editors with YAML support (VS Code, JetBrains, Neovim)
#   complete and check this file. Create the schema it points to with:
#     lanes schema > lanes.schema.json
#
# lanes.yaml — the team charter: who decides what, who is consulted, who is
# informed. Check it with \`lanes check\`; ask it with \`lanes who-decides "…"\`.
version: 1

workspace:
  id: acme
  name: Acme
  timezone: Europe/Paris # delegations end at midnight in this zone

# Everyone the charter names. Roles: product-manager, designer, tech-lead,
# engineering-manager, engineer, sre, engineering-leadership, stakeholder.
# The tool identities (github, jira, slack, email) link activity to people.
people:
  - id: alice
    name: Alice Martin
    role: product-manager
    email: alice@example.com
    slack: U0000ALICE
  - id: dana
    name: Dana Kim
    role: designer
    email: dana@example.com
  - id: tom
    name: Tom Lee
    role: tech-lead
    github: tomlee
  - id: ana
    name: Ana Ruiz
    role: engineer
    github: anaruiz
  - id: erin
    name: Erin Park
    role: engineering-leadership
    email: erin@example.com

teams:
  - id: checkout
    name: Checkout
    members: [alice, dana, tom, ana]
    # The product trio: product manager, designer and tech lead.
    trio:
      product: alice
      design: dana
      tech: tom
    components: [checkout-web, checkout-api]
    # Who hears about systemic problems (engineering leadership, never an individual contributor).
    escalation: erin
    # Per-team overrides of the decision catalog (\`lanes who-decides\` lists the 14 domains).
    # Here the tech lead alone hands out the work, and product is kept informed.
    decisions:
      eng.assignment:
        decides: tom
        informed: [product]

# Workspace-wide overrides of the catalog, or new domains. Uncomment to use.
# domains:
#   - id: eng.quality-guardrails
#     consulted: [engineering, sre]
#   - id: data.retention
#     title: Data retention
#     question: How long do we keep customer data?
#     keywords: [retention, gdpr, delete data]
#     decides: product
#     consulted: [engineering]

# Time-boxed hand-overs of a decision. \`until\` is inclusive; once it has passed
# the delegation stops applying and \`lanes check\` reminds you to remove it.
delegations:
  - domain: eng.bug-triage
    team: checkout
    from: engineering
    to: ana
    until: 2099-12-31
    reason: Ana runs the weekly bug triage for the team.

# How quickly stakeholders hear back, per severity (m, h, d, w).
response_targets:
  critical: { acknowledge: 15m, update_every: 1h, resolve: 4h }
  high: { acknowledge: 1h, update_every: 4h, resolve: 2d }
  medium: { acknowledge: 1d, update_every: 2d, resolve: 2w }
  low: { acknowledge: 2d, update_every: 1w }

# Which repository or project belongs to which team and component. Replace {}
# with a mapping like the commented one when you connect a tool; tokens belong
# in the environment, never in this file.
connectors: {}
#   github:
#     repos:
#       acme/checkout-web: { team: checkout, component: checkout-web }
#       acme/checkout-api: { team: checkout, component: checkout-api }
#   jira:
#     projects:
#       CHK: { team: checkout, component: checkout-api }
`;

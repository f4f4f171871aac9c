import type { Role } from './charter.schema.js';
import type { ItemKind } from './event.js';

/**
 * Middleman load classifier (PRODUCT.md C3): is a comment a stakeholder-style
 * status ping ("any update on this?", "ETA?"), a product manager relaying
 * engineering status ("engineering says the fix ships Thursday"), or neither?
 *
 * Method: weighted patterns over a normalised copy of the text, with context
 * rules, not a model. Transparent on purpose: every label comes with the names of
 * the rules that fired, so a person can see why a comment counted.
 *
 * 1. Normalise: lower case, diacritics folded ("mise à jour" → "mise a jour"),
 *    typographic quotes and apostrophes unified.
 * 2. Remove what is mentioned rather than said: fenced and inline code, stack
 *    trace lines and quoted phrases (`"when will this be fixed" is the wrong
 *    question` quotes a ping, it is not one). Release notes and changelogs are
 *    `other` outright.
 * 3. Ping score: phrases that ask for status, a date or progress, in English,
 *    German, French, Spanish, Portuguese and Dutch, tolerant of common typos
 *    ("anny updte", "wen will this be fixd"), plus chasing cues ("bump", "customer
 *    is asking again"). Context guards keep the look-alikes out: "any update *to*
 *    the docs" is an edit, an "ETA field" is a UI element, "is X still needed" is
 *    triage, and "… is the wrong question" is a discussion about pings.
 * 4. Relay score, only for comments written by a product manager: attribution to
 *    engineering ("the team says", "checked with Sam", "laut Entwicklung") or a
 *    status lead-in ("Update:", "FYI"), together with delivery content (fix,
 *    merged, in review, deploy, a weekday, next sprint). Engineers reporting their
 *    own status are not relays. On a feature item, attribution is required.
 * 5. The higher score wins when it reaches the threshold; otherwise `other`.
 *    Confidence grows with the winning score and shrinks with the runner-up.
 *
 * Pure: no I/O, no clock, no randomness.
 */
export type MiddlemanLabel = 'status_ping' | 'status_relay' | 'other';

export interface ClassifyCommentInput {
  text: string;
  authorRole?: Role | 'stakeholder' | 'unknown';
  itemKind?: ItemKind;
}

export interface CommentClassification {
  label: MiddlemanLabel;
  confidence: number;
  reasons: string[];
}

interface Rule {
  name: string;
  weight: number;
  pattern: RegExp;
}

const THRESHOLD = 2;

/** Subject of a status question: this, it, the bug/ticket/issue/fix, ... */
const SUBJ = String.raw`(?:this|it|that|the (?:bug|ticket|issue|fix|problem|feature|change|outage|incident))`;
const DONE = String.raw`(?:fixe?d?|resolved|solved|done|ready|released|shipped|deployed|live|available|back(?: up)?|addressed|sorted(?: out)?|finished|merged|out|working)`;
/** What a status question asks for. */
const NEWS = String.raw`(?:up?d\w*|news|progress|movement|word|timeline|eta|status|info|feedback)\b`;

const PING_RULES: Rule[] = [
  // English
  { name: 'asks-any-update', weight: 2, pattern: new RegExp(String.raw`\ban+y\s+${NEWS}(?!\s+(?:to|of|in)\b)`) },
  { name: 'asks-status', weight: 2, pattern: /^\W*(?:status|update|updates|news)\s*\?/ },
  {
    name: 'asks-whats-the-status',
    weight: 2,
    pattern: /\bwhat(?:'s| is| s|s)? (?:the )?(?:current |latest )?(?:status|latest|eta|timeline|update)\b/,
  },
  { name: 'asks-status-of', weight: 2, pattern: new RegExp(String.raw`\bstatus (?:on|of) ${SUBJ}`) },
  {
    name: 'asks-when-fixed',
    weight: 2,
    pattern: new RegExp(
      String.raw`\bw+h?en'?s?\s+(?:will|wil|is|are|can|could|would|do|does)?\s*(?:we|i|you)?\s*(?:${SUBJ}\s+)?(?:be\s+|going to be\s+|getting\s+|get\s+)?(?:${DONE}|expect|tell|ship|release|land|go live|planned|scheduled|expected|due)`,
    ),
  },
  {
    name: 'asks-if-done',
    weight: 2,
    pattern: new RegExp(
      String.raw`\b(?:is|has|have|did|will|was)\s+${SUBJ}\s+(?:been\s+|be\s+|already\s+|going to\s+|still\s+)?(?:${DONE}|make|made|get|got)\b`,
    ),
  },
  {
    name: 'asks-still-worked-on',
    weight: 2,
    pattern:
      /\b(?:is|are)\s+(?:this|it|that|we)\s+still\s+(?:being worked on|in progress|planned|on (?:the )?(?:roadmap|track)|happening|coming|shipping|scheduled)/,
  },
  {
    name: 'asks-someone-on-it',
    weight: 2,
    pattern:
      /\b(?:is|has)\s+(?:any|some)(?:one|body)\s+(?:working on|looking (?:at|into)|on|had a chance to look|picked|seen|checked)/,
  },
  {
    name: 'asks-timeline',
    weight: 2,
    pattern:
      /\b(?:is there|do we (?:have|know)|have we got)\s+(?:a|an|any)\s+(?:fix|eta|timeline|date|update|news|estimate)/,
  },
  { name: 'asks-do-we-know-when', weight: 2, pattern: /\bdo we know when\b/ },
  {
    name: 'asks-any-idea-when',
    weight: 2,
    pattern: /\bany (?:idea|clue|chance)\s+(?:when|(?:this|it)\s+(?:gets|will|is|could))/,
  },
  { name: 'asks-where-are-we', weight: 2, pattern: /\bwhere (?:are we|do we stand|is this|are things)\b/ },
  { name: 'asks-how-long', weight: 2, pattern: /\bhow (?:long until|much longer|long (?:will|is) (?:this|it))/ },
  { name: 'asks-closer-to-fix', weight: 2, pattern: /\b(?:any )?closer to a (?:fix|resolution)/ },
  { name: 'asks-latest', weight: 2, pattern: /\bwhat'?s the latest\b/ },
  {
    name: 'asks-for-update',
    weight: 2,
    pattern:
      /\b(?:get|share|give|send|need|post|(?:can|could) (?:we|i) have)\s+(?:me |us )?(?:an?|some|the)\s+(?:update|eta|status|timeline)\b(?!\s+(?:to|of)\b)/,
  },
  {
    name: 'asks-eta',
    weight: 2,
    pattern:
      /^\W*eta\b|\beta\s*(?:\?|pl[sz]\b|please)|\beta\s+(?:for|on)\s+(?:this|the fix|a fix|it|recovery|that)\b|\beta\b[^.!?\n]{0,30}\?/,
  },
  { name: 'asks-chance-fixed', weight: 2, pattern: new RegExp(String.raw`\bany chance ${SUBJ} (?:gets|will|is|can)`) },
  {
    name: 'chases-follow-up',
    weight: 2,
    pattern:
      /\b(?:following up|follow(?:ing)?[- ]up on|checking in|check(?:ing)? on the (?:status|progress)|just checking|second time asking|\d(?:st|nd|rd|th) follow[- ]?up)\b/,
  },
  { name: 'chases-bump', weight: 2, pattern: /^\W*(?:bump|bumping|ping)\b|\bbump(?:ing)? (?:this|again)\b/ },
  { name: 'chases-reminder', weight: 2, pattern: /\b(?:friendly|gentle|quick) (?:reminder|nudge|ping)\b/ },
  {
    name: 'chases-customer-asking',
    weight: 2,
    pattern:
      /\b(?:customer|client|account|sales|support|cs)s?\s+(?:is |are |keeps? |has )?(?:asking|chasing|escalated|waiting|pushing)\b/,
  },
  { name: 'chases-still-waiting', weight: 1, pattern: /\bstill (?:waiting|broken|happening|no (?:update|news|fix))\b/ },
  // German
  {
    name: 'de-gibt-es-neues',
    weight: 2,
    pattern:
      /\b(?:gibt es|gibts|schon)\s+(?:hier\s+|schon\s+|inzwischen\s+)*(?:ein(?:en)?\s+)?(?:update|neuigkeiten|was neues|neues|stand|termin|zeitplan|eta|info)/,
  },
  { name: 'de-wann', weight: 2, pattern: /\bwann\s+(?:wird|ist|kommt|koennen|kann)\b/ },
  { name: 'de-stand', weight: 2, pattern: /\bwie ist (?:der|hier der) (?:aktuelle )?stand\b|\bwie sieht es aus\b/ },
  { name: 'de-noch-gearbeitet', weight: 2, pattern: /\bwird (?:daran|hier|da) noch gearbeitet\b/ },
  { name: 'de-nachfrage', weight: 2, pattern: /\b(?:kunde fragt|fragt (?:schon wieder )?nach|nachfrage)\b/ },
  // French
  {
    name: 'fr-nouvelles',
    weight: 2,
    pattern: /\bdes nouvelles\b|\bdu nouveau\b|\bune mise a jour (?:sur|concernant|svp)|\bun point sur\b/,
  },
  {
    name: 'fr-quand',
    weight: 2,
    pattern: /\bquand est-ce que\b|\bquand (?:sera|va|pensez|aurons)\b|\bc'est pour quand\b/,
  },
  { name: 'fr-ou-en-est', weight: 2, pattern: /\bou en (?:est|sommes)\b/ },
  { name: 'fr-date', weight: 2, pattern: /\b(?:on a|avez-vous|avons-nous|vous avez) une (?:date|estimation|eta)\b/ },
  { name: 'fr-relance', weight: 2, pattern: /\b(?:relance|quelqu'un travaille)\b/ },
  // Spanish
  {
    name: 'es-novedades',
    weight: 2,
    pattern: /\b(?:alguna|hay) (?:novedad(?:es)?|actualizacion(?:es)?)\b|\bhay novedades\b/,
  },
  { name: 'es-cuando', weight: 2, pattern: /\b(?:para )?cuando (?:se|va|estara|estaria|sale|queda)\b/ },
  {
    name: 'es-como-va',
    weight: 2,
    pattern: /\bcomo va\b|\ben que estado\b|\bfecha (?:estimada|para)\b|\balguien esta (?:trabajando|viendo)\b/,
  },
  { name: 'es-cliente-pregunta', weight: 2, pattern: /\bcliente (?:sigue preguntando|pregunta)/ },
  // Portuguese
  { name: 'pt-novidade', weight: 2, pattern: /\balguma (?:novidade|atualizacao)\b/ },
  { name: 'pt-quando', weight: 2, pattern: /\bquando (?:isso|vai|fica|sai|sera)\b/ },
  {
    name: 'pt-status',
    weight: 2,
    pattern: /\bqual (?:o|e o) (?:status|andamento)\b|\btem previsao\b|\balguem esta (?:vendo|olhando|trabalhando)\b/,
  },
  { name: 'pt-cobrando', weight: 2, pattern: /\bcliente (?:esta cobrando|perguntou|pergunta)\b/ },
  // Dutch
  { name: 'nl-nieuws', weight: 2, pattern: /\bis er (?:al |nog )?(?:nieuws|een update|een eta|een planning)\b/ },
  { name: 'nl-status', weight: 2, pattern: /\bwat is de (?:status|stand)\b|\bhoe staat het\b/ },
  { name: 'nl-wanneer', weight: 2, pattern: /\bwanneer (?:wordt|is|komt|gaat)\b/ },
  { name: 'nl-gewerkt', weight: 2, pattern: /\bwordt (?:hier|daar|er) nog aan gewerkt\b/ },
  { name: 'nl-klant-vraagt', weight: 2, pattern: /\bklant (?:vraagt|belt)\b/ },
];

/** Ping look-alikes that disqualify the whole comment as a ping. */
const PING_VETOES: Rule[] = [
  {
    name: 'discusses-pings',
    weight: 0,
    pattern: /\b(?:is|isn't|is not) (?:the|a) (?:wrong|right) question\b|\binstead of asking\b/,
  },
];

const RELAY_ATTRIBUTION: Rule[] = [
  {
    name: 'cites-engineering',
    weight: 2,
    pattern:
      /\b(?:eng|engineering|dev team|devs?|developers?|engineers|on-?call(?: team| engineers)?|tech lead|the team|team)\b[^.!?\n]{0,25}\b(?:says?|said|confirm(?:s|ed)?|tells? me|told me|reports?|expects?|aims?|is working|are working|has|have|rolled|deployed|shipped|identified|mitigated|finished|reproduced|pushed|need|thinks?)\b/,
  },
  { name: 'update-from', weight: 2, pattern: /\b(?:update|status|news|word) from\b/ },
  {
    name: 'per-someone',
    weight: 2,
    pattern:
      /^\W*(?:per|according to)\b|\b(?:per|according to) (?:the )?(?:team|dev team|eng|engineering|devs|[a-z]+,)/,
  },
  {
    name: 'checked-with',
    weight: 2,
    pattern:
      /\b(?:talked|spoke|spoken|synced|checked|chatted|confirmed) (?:to|with)\b|\bheard (?:back )?from\b|\bi(?:'ve| have)? asked the (?:team|devs|engineers)\b/,
  },
  { name: 'relaying', weight: 2, pattern: /\brelay(?:ing)?\b/ },
  {
    name: 'cites-engineering-de',
    weight: 2,
    pattern:
      /\blaut (?:entwicklung|team|dem team|entwicklungsteam|[a-z]+)\b|\b(?:die entwickler|das team) (?:sagen|sagt|meinen|meint)\b|\bmit (?:den entwicklern|dem team) gesprochen\b|\bupdate vom team\b/,
  },
  {
    name: 'cites-engineering-fr',
    weight: 2,
    pattern:
      /\bd'apres l'equipe\b|\bselon l'equipe\b|\bl'equipe (?:technique |de dev |dev )?(?:dit|confirme|indique)\b|\bmise a jour de l'equipe\b|\bvu avec (?:les devs|l'equipe)\b/,
  },
  {
    name: 'cites-engineering-es',
    weight: 2,
    pattern:
      /\bsegun el equipo\b|\bel equipo (?:de desarrollo )?(?:dice|confirma|comenta)\b|\bactualizacion del equipo\b|\bhable con\b/,
  },
  {
    name: 'cites-engineering-pt',
    weight: 2,
    pattern:
      /\bsegundo o (?:time|equipe)\b|\bo time (?:de engenharia |de dev )?(?:disse|diz|confirmou)\b|\batualizacao do time\b|\bfalei com\b/,
  },
  {
    name: 'cites-engineering-nl',
    weight: 2,
    pattern:
      /\bvolgens (?:het|de) (?:dev-?)?(?:team|developers)\b|\bhet team zegt\b|\bupdate van (?:het team|engineering|de developers)\b|\bgecheckt bij\b|\bgesproken met\b/,
  },
];

const RELAY_LEAD_IN: Rule = {
  name: 'status-lead-in',
  weight: 1,
  pattern: /^\W*(?:(?:quick|short|small) )?(?:status(?: update)?|update|fyi|heads up|good news|update for \w+)\b/,
};

const RELAY_CONTENT =
  /\b(?:fix(?:ed)?|hotfix|patch|ships?|shipped|releas\w*|deploy\w*|merged|in review|review|pr|code-?complete|in progress|qa|staging|prod(?:uction)?|sprint|eta|blocked|roll(?:ed)? ?back|mitigat\w*|live|done|finished|root cause|reproduced|working on|picked (?:it )?up|waiting on|scheduled|planned|target date|tomorrow|tmrw|tonight|next week|this week|end of (?:week|sprint)|back to normal|\d+(?:-\d+)? days|another (?:day|week)|day or two|couple (?:of )?days|recovering|failover|monday|tuesday|wednesday|thursday|friday|behoben|fertig|arbeiten dran|morgen|montag|dienstag|mittwoch|donnerstag|freitag|correctif|livre|en cours|prevu|mise en prod|deploye|semaine prochaine|en revue|lundi|mardi|mercredi|jeudi|vendredi|correccion|arreglado|revision|lunes|martes|miercoles|jueves|viernes|correcao|revisao|producao|semana que vem|previsao|segunda|terca|quarta|quinta|sexta|gepland|volgende (?:week|sprint)|maandag|dinsdag|woensdag|donderdag|vrijdag)\b/;

const RELEASE_NOTES =
  /^\W*(?:#+\s*)?(?:release notes?|release \d|changelog|notes de version|versionshinweise|notas de (?:la )?version)\b/;

const ENGINEERING_KINDS: ReadonlySet<ItemKind> = new Set(['bug', 'incident', 'tech_debt', 'task']);

/** Lower case, fold diacritics and typographic punctuation. */
const normalise = (text: string): string =>
  text
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[\u2018\u2019\u00b4]/g, "'")
    .replace(/[\u201c\u201d\u00ab\u00bb\u201e]/g, '"')
    .toLowerCase();

/** An ETA that is a thing on screen or in a field, not a question about delivery. */
const ETA_AS_THING =
  /\b(?:(?:show\w*|display\w*|add\w*|updat\w*|comput\w*|calculat\w*|rename\w*)\s+(?:an?\s+|the\s+)?eta|eta\s+(?:field|label|column|display|value|calculation|badge|rounding|widget|property|attribute))\b/g;

/** Drop code, stack traces and quoted phrases: they mention words, they do not say them. */
const stripMentions = (text: string): string =>
  text
    .replace(/```[\s\S]*?(?:```|$)/g, ' ')
    .replace(/`[^`\n]*`/g, ' ')
    .replace(/'[^'\n]*'(?=\s*[;,)])/g, ' ')
    .split('\n')
    .filter((line) => !/^\s+at\s+\S+\s*\(/.test(line))
    .join('\n')
    .replace(/"[^"\n]*"/g, ' ')
    .replace(/[ \t]+/g, ' ')
    .trim();

const fire = (rules: readonly Rule[], text: string): Rule[] => rules.filter((rule) => rule.pattern.test(text));

const confidenceOf = (winner: number, runnerUp: number): number => {
  const margin = Math.max(0, winner - runnerUp);
  const value = 1 - Math.exp(-(0.5 * winner + 0.5 * margin));
  return Math.round(Math.min(0.99, Math.max(0.5, value)) * 100) / 100;
};

/** Classify one comment as a status ping, a PM status relay or other. See the module comment for the method. */
export const classifyComment = (input: ClassifyCommentInput): CommentClassification => {
  const raw = normalise(input.text);
  const text = stripMentions(raw);
  if (text.length === 0) {
    return { label: 'other', confidence: 0.9, reasons: ['no prose outside code or quotes'] };
  }
  if (RELEASE_NOTES.test(text)) {
    return { label: 'other', confidence: 0.9, reasons: ['release notes or changelog'] };
  }

  const reasons: string[] = [];
  const vetoes = fire(PING_VETOES, text);
  const pingRules = vetoes.length > 0 ? [] : fire(PING_RULES, text.replace(ETA_AS_THING, ' screen_eta '));
  for (const veto of vetoes) reasons.push(`veto:${veto.name}`);
  const pingScore = pingRules.reduce((sum, rule) => sum + rule.weight, 0);

  let relayScore = 0;
  const relayReasons: string[] = [];
  if (input.authorRole === 'product-manager') {
    const attribution = fire(RELAY_ATTRIBUTION, text);
    const leadIn = RELAY_LEAD_IN.pattern.test(text);
    const content = RELAY_CONTENT.test(text);
    const kindAllows = input.itemKind === undefined || ENGINEERING_KINDS.has(input.itemKind) || attribution.length > 0;
    if (content && kindAllows && (attribution.length > 0 || leadIn)) {
      relayScore = 1 + (attribution.length > 0 ? 2 : 0) + (leadIn ? 1 : 0);
      relayReasons.push('delivery-content', ...attribution.map((rule) => rule.name));
      if (leadIn) relayReasons.push(RELAY_LEAD_IN.name);
    }
  }

  if (relayScore >= THRESHOLD && relayScore >= pingScore) {
    return {
      label: 'status_relay',
      confidence: confidenceOf(relayScore, pingScore),
      reasons: [...relayReasons, ...reasons],
    };
  }
  if (pingScore >= THRESHOLD) {
    return {
      label: 'status_ping',
      confidence: confidenceOf(pingScore, relayScore),
      reasons: [...pingRules.map((rule) => rule.name), ...reasons],
    };
  }
  const strongest = Math.max(pingScore, relayScore);
  return {
    label: 'other',
    confidence: Math.round((0.9 - 0.15 * strongest) * 100) / 100,
    reasons: reasons.length > 0 ? reasons : ['no status request or relay found'],
  };
};

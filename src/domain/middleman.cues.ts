/**
 * The cues of the middleman comment classifier (`middleman.classify.ts`):
 * named, weighted patterns over prepared prose (`middleman.text.ts`). A cue
 * may hold only in a question or only in a statement; a `verify` cue (asking
 * whether something is already fixed) is triage when the project's own people
 * ask it. Every label the classifier gives names the cues that fired.
 */

export interface Cue {
  name: string;
  weight: number;
  pattern: RegExp;
  /** Where the cue holds: in a sentence ending with `?`, in one that does not, or anywhere (default). */
  scope?: 'question' | 'statement';
  /** `verify`: asks whether it is fixed or released yet (triage when a maintainer asks the reporter). */
  family?: 'verify';
}

/** Subject of a status question: this, it, the bug/ticket/issue/fix, ... */
const SUBJ = String.raw`(?:this|it|that|the (?:bug|ticket|issue|fix|problem|feature|change|outage|incident|pr|patch)|this (?:issue|bug|change)|that change)`;
const DONE = String.raw`(?:fixe?d?|resolved|solved|done|ready|released|shipped|deployed|live|available|back(?: up)?|addressed|sorted(?: out)?|finished|merged|out|working|published|landed)`;
/** Delivered, in the narrow sense a release question asks about. */
const DELIVERED = String.raw`(?:fixed|resolved|released|published|merged|shipped|landed|out|available|deployed|live)\b`;
/** What a status question asks for. */
const NEWS = String.raw`(?:up?d\w*|news|progress|movement|word|timeline|eta|status|info|feedback)\b`;
const AUX = String.raw`(?:will|wil|is|are|can|could|would|do|does|did|might|should)`;

/** A version, release or branch that can carry a fix: `1.2.0`, `v9`, `pkg@4.0.0`, `release 56`, `the next beta`, `master`. */
export const TARGET = String.raw`(?:v?\d+(?:\.(?:\d+|x))+(?:[-.]?(?:beta|rc|alpha|pre)[\w.]*)?|v\d+\b|[\w/-]+@\d[\w.-]*|(?:release|version|firefox|fx|chrome|beta|nightly|esr|build|milestone|sprint|iteration|train) ?v?\d+(?:\.\d+)*|(?:the |a )?(?:next|upcoming|coming|following|latest|new|current|first stable|stable|last|newest|recent) (?:\w+ )?(?:version|release|beta|major|minor|patch|build|stable|nightly|update|cycle|train|tag)|(?:the )?\d+(?:\.\d+)* (?:beta|release|version)|(?:master|main|trunk|nightly|beta|canary|aurora|head|dev|develop|production|prod|staging|npm)\b|\d{2,}\b(?! ?(?:%|ms|px|mb|kb|gb|s\b|secs?|seconds?|minutes?|mins?|hours?|days?|lines?|files?|tests?|times?|people|users)))`;
/** A change that can fix an item: a pull request, commit, patch or bug. */
const CHANGE = String.raw`(?:prlink|commitlink|issuelink|link|#\d+|(?:pr|pull request|patch|commit|change(?:set)?|revision)\b ?#?\d*|bug \d+|the (?:patch|fix|change|commit|pr|pull request) (?:in|on|from) (?:the )?(?:linked|other|related|upstream) (?:bug|issue|pr)|the (?:linked|related|upstream) (?:bug|issue|pr|patch|change|commit|fix)|upstream)`;

/** Status questions, chasers and requests for a release or a back-port, in six languages. */
export const PING_CUES: Cue[] = [
  // English
  {
    name: 'asks-any-update',
    weight: 2,
    pattern: new RegExp(
      String.raw`\ban+y\s+${NEWS}(?!\s+(?:to|of|in|should|will|would|must|can|is|are|was|were|does|did|triggers?|just)\b)`,
    ),
  },
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
      String.raw`\bw+h?en(?:'?s\b|\s+${AUX}\b)\s*(?:we|i|you)?\s*(?:${SUBJ}\s+)?(?:be\s+|going to be\s+|getting\s+|get\s+)?(?:${DONE}|expect|tell|ship|release|land|go live|planned|scheduled|expected|due)`,
    ),
  },
  {
    name: 'asks-when-fixed',
    weight: 2,
    scope: 'question',
    pattern: new RegExp(String.raw`\bw+h?en'?s?\s+(?:${SUBJ}\s+)?(?:be\s+)?(?:${DONE}|released?|ship)`),
  },
  {
    name: 'asks-if-done',
    weight: 2,
    family: 'verify',
    pattern: new RegExp(
      String.raw`\b(?:is|has|have|did|will|was)\s+${SUBJ}\s+(?:been\s+|be\s+|already\s+|going to\s+|still\s+)?(?:${DONE}|make|made|get|got)\b`,
    ),
  },
  {
    name: 'asks-if-released',
    weight: 2,
    family: 'verify',
    scope: 'question',
    pattern: new RegExp(
      String.raw`\b(?:(?:is|was|has|will|did|does)\s+${SUBJ}\s+(?:[\w'-]+\s+){0,4}?(?:${DELIVERED}|going to be released)|${SUBJ} (?:is|was|has been|got) (?:now |already )?(?:${DELIVERED})(?: now)?\s*\?|did (?:you|they|someone|anyone) (?:publish|release|push|merge|land|tag)|(?:will|is) (?:that|this|the) (?:change|fix|pr) (?:going to be )?(?:released|shipped|published|included))`,
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
      /\b(?:is|has|have|did)\s+(?:any|some)(?:one|body)\s+(?:working on|looking (?:at|into)|on|had a chance to look|picked|seen|checked)|\bany chance (?:any|some)(?:one|body) is (?:looking|working)/,
  },
  {
    name: 'asks-timeline',
    weight: 2,
    pattern:
      /\b(?:is there|do we (?:have|know)|have we got|if there(?:'s| is))\s+(?:a|an|any)\s+(?:fix|eta|timeline|date|update|news|estimate|progress)/,
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
      /\b(?:get|share|give|send|need|post|(?:can|could) (?:we|i) have)\s+(?:me |us )?(?:an?|some|the)\s+(?:update|eta|status|timeline)\b(?!\s+(?:to|of|out)\b)/,
  },
  {
    name: 'asks-eta',
    weight: 2,
    pattern:
      /^\W*eta\b|\beta\s*(?:\?|pl[sz]\b|please)|\beta\s+(?:for|on)\s+(?:this|the fix|a fix|it|recovery|that)\b|\beta\b[^.!?\n]{0,30}\?/,
  },
  {
    name: 'asks-chance-fixed',
    weight: 2,
    family: 'verify',
    pattern: new RegExp(String.raw`\bany chance ${SUBJ} (?:gets|will|is|can|might|could|would)`),
  },
  {
    name: 'asks-chance-of-fix',
    weight: 2,
    pattern:
      /\bany chance (?:to|of|for) (?:get|getting|see|seeing)? ?(?:this|it|that|a fix)? ?(?:being |be |get |gets )?(?:fixed|resolved|addressed|merged|looked at)\b/,
  },
  {
    name: 'asks-if-planned',
    weight: 2,
    pattern:
      /\b(?:is there|do you have|any) (?:a )?(?:solution|fix) in mind\b|\b(?:is|if) (?:this|it) (?:is )?(?:something|sth) (?:we|you|that) (?:can|could|will|plan to|are going to) fix\b|\bany plans? (?:to|on|for) (?:releas|fix|merg|publish|ship|land|address|resolv|backport)/,
  },
  {
    name: 'asks-for-release',
    weight: 2,
    pattern:
      /\b(?:can|could|would|will) (?:you|we|someone|somebody|anyone|u)(?: please)? (?:make|cut|do|publish|push|tag|create|get|add)(?: out)? (?:a |an |another )?(?:new |patch(?:ed)? |beta |minor |major )?(?:release|version|bump|publish|tag)|\bany (?:chance|plans?) (?:of|to|for) (?:releasing|publishing|a (?:new |patch(?:ed)? )?(?:release|version))|\bwill there be (?:a |an )?(?:new |patch )?(?:version|release)|\bwhy not (?:just )?(?:release|publish|cut|tag)|\bno release (?:cut|yet|out)\b[^.]*\?|\bmake a (?:new )?release\b[^.]*\?|(?:\+\+|\+1) for releasing|\breleas\w* (?:this|it)(?: \w+)? asap\b|\bappreciate an? (?:new |\w+ )?release\b/,
  },
  {
    name: 'asks-back-port',
    weight: 2,
    scope: 'question',
    pattern:
      /\bback-?port|\bback port|\buplift|\bcherry-?pick|\b(?:get|make it|land|ship|include) (?:this|it|the fix|that) (?:in|into|to|on) (?:the )?(?:beta|esr|release|stable|lts|\d+(?:\.\d+)*(?:\.x)?|v\d+|older|earlier|previous|branch)/,
  },
  { name: 'asks-back-port', weight: 2, pattern: /\bplease (?:back-?port|uplift|cherry-?pick)\b/ },
  {
    name: 'asks-will-land',
    weight: 2,
    scope: 'question',
    pattern:
      /\b(?:we'?ll|we will|will (?:we|it|this|#\d+)) (?:get|land|ship|merge|release|see) (?:#\d+|this|it|the fix|the pr|that)?\s*(?:in|into|merged|out|landed|released)\b/,
  },
  {
    name: 'chases-follow-up',
    weight: 2,
    pattern:
      /\b(?:following up|follow(?:ing)?[- ]up on|checking in|check(?:ing)? on the (?:status|progress)|just checking|second time asking|\d(?:st|nd|rd|th) follow[- ]?up)\b/,
  },
  { name: 'chases-bump', weight: 2, pattern: /^\W*(?:bump|bumping|ping)\b|\bbump(?:ing)? (?:this|again)\b/ },
  { name: 'chases-reminder', weight: 2, pattern: /\b(?:friendly|gentle|quick) (?:reminder|nudge|ping)\b/ },
  {
    name: 'chases-anything',
    weight: 2,
    pattern:
      /\banything (?:new )?on this\b|\bstill no (?:update|news|fix|progress|release|word)\b|\bno fix or (?:change|update)\b/,
  },
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
export const PING_VETOES: Cue[] = [
  {
    name: 'discusses-pings',
    weight: 0,
    pattern: /\b(?:is|isn't|is not) (?:the|a) (?:wrong|right) question\b|\binstead of asking\b/,
  },
];

/**
 * Someone asking how to go on with their own work ("should I request
 * check-in?", "would the next step be for me to open a PR?", "can I take
 * this?"): neither a ping nor a relay, whatever else the comment says.
 */
export const WORK_STEP =
  /\b(?:should|shall|can|could|may) i (?:now |just )?(?:request|ask for|set|add|open|submit|file|land|push|merge|create|send|go ahead|take|work on|pick)\b|\b(?:request|ask for|set|needs?|ready for|land) (?:a |the )?check-? ?in\b|\bcheck-?in-?needed\b|\b(?:would|is) the next step (?:be )?for me\b|\btake a (?:whirl|stab) at\b|\bis it ok(?:ay)? if i\b|\b(?:should|shall|can) we (?:now )?(?:land|request|merge|push) (?:this|it)\b/;

/** Delivery statements: someone telling where an item stands. Never counted inside a question. */
export const RELAY_CUES: Cue[] = [
  {
    name: 'fixed-in-release',
    weight: 2,
    scope: 'statement',
    pattern: new RegExp(
      String.raw`\b(?:fixed|resolved|addressed|solved|released|shipped|landed|published|included|available|documented|implemented|corrected|live|merged|out|fix(?:ed)? is|fix landed)\s+(?:now\s+|already\s+)?(?:in|with|as|on|into|for)\s+(?:the\s+)?${TARGET}`,
    ),
  },
  {
    name: 'released-version',
    weight: 2,
    scope: 'statement',
    pattern: new RegExp(
      String.raw`\b(?:released|published|shipped|tagged|cut|pushed out|put out)\s+(?:a\s+fix\s+(?:as|in)\s+|the fix\s+(?:as|in)\s+)?${TARGET}|\b(?:${TARGET}|(?:a |the )?new (?:version|release)(?: of [\w.@/-]+)?)\s+(?:was|has been|is|got|has)\s+(?:just\s+|now\s+|already\s+)?(?:released|published|shipped|out|tagged)|\b(?:is|was|has been|got|it'?s)\s+(?:already\s+|just\s+|now\s+)?(?:released|published|shipped)\b|\bjust released\b|\breleased\b[^.]{0,30}\bwith the fix\b`,
    ),
  },
  {
    name: 'will-ship-in-release',
    weight: 2,
    scope: 'statement',
    pattern: new RegExp(
      String.raw`\b(?:will|should|shall|would|is going to|are going to|is set to|is expected to|ought to|'ll)\s+(?:now\s+)?(?:be\s+)?(?:land|landed|ship|shipped|released|published|included|fixed|resolved|available|out|in|part of|make it into|ride the trains?)\s+(?:now\s+)?(?:in|into|with|as|for|on)?\s*(?:one of\s+)?(?:the\s+)?${TARGET}`,
    ),
  },
  {
    name: 'fixed-once',
    weight: 2,
    scope: 'statement',
    pattern:
      /\b(?:will|should|'ll) (?:be )?(?:fixed|resolved|released|available|included|implemented|done|shipped) \(?(?:as soon as|once|when|after)\b|\b(?:depends|waiting|blocked|waits) on (?:#\d+|prlink|issuelink|commitlink|the (?:pr|patch|change|fix|upstream))|\bfix (?:is )?(?:coming(?: up)?|incoming|on (?:the|its) way)\b/,
  },
  {
    name: 'release-soon',
    weight: 2,
    scope: 'statement',
    pattern:
      /\b(?:new |next |a )?(?:release|version)\s+(?:is\s+|should\s+be\s+|will\s+be\s+)?(?:planned|scheduled|coming(?: up)?|going out|out)\s+(?:very\s+)?(?:soon|shortly|later today|tonight|tomorrow|next week|this week|today)|\b(?:go|goes|going) out (?:later )?(?:today|tonight|tomorrow|soon|this week|next week)|\baccelerate the [\w. ]{0,20}release\b/,
  },
  {
    name: 'will-make-change',
    weight: 2,
    scope: 'statement',
    pattern: new RegExp(
      String.raw`\b(?:we|i)\s+(?:should|will|can|'ll|could)\s+(?:take|uplift|accept|land|ship)\s+(?:this|it|the fix|the patch)\s+(?:in|into|for|to|on)\s+(?:the\s+)?${TARGET}|\b(?:i'?ll|we'?ll|i will|we will)\s+(?:make|include|add|ship|land|put|get)\s+(?:this|it|the fix|a fix|this change|the change|that)?\s*(?:change\s+)?(?:in|into|to|for|with)\s+(?:the\s+)?${TARGET}|\b(?:i'?ll|we'?ll|i will|we will)\s+(?:release|publish|push out|cut|ship)\s+(?:a fix|a new version|a release|it|this|the fix)`,
    ),
  },
  {
    name: 'fixed-by-change',
    weight: 2,
    scope: 'statement',
    pattern: new RegExp(
      String.raw`\b(?:(?:fixed|resolved|addressed|solved|handled|superseded|covered|closed|unblocked)\s*(?:by|with|via|in|at)?|fix(?:ed)? (?:is )?(?:at|in))\s*:?\s*(?:the\s+)?${CHANGE}|(?:#\d+|\bprlink|commitlink|this (?:pr|patch|change)|the (?:pr|patch|change|fix)|that (?:pr|patch|change))\s+(?:should|will|would|might)\s+(?:fix|resolve|address|solve)\s+(?:this|it|the issue|that)\b`,
    ),
  },
  {
    name: 'merged-status',
    weight: 2,
    scope: 'statement',
    pattern:
      /(?:#\d+|\b(?:pr|pull request|fix|patch|change|commit|prlink|it))\s+(?:has been|have been|was|is|got|were|been)\s+(?:now\s+)?(?:merged|landed|reverted|committed|accepted)\b|\bmerged\s+(?:now|into (?:master|main|trunk|[\w.-]+ in #\d+))|\b(?:in (?:master|main)|merged),? but not (?:yet )?(?:released|published|shipped)\b|\b(?:is|it'?s|it is|now|fixed|merged|landed)\s+(?:now\s+)?(?:in|on)\s+(?:master|main|trunk|nightly)\b|\bnow that (?:this|it|#\d+) (?:has )?(?:landed|is merged|was merged)\b|\b(?:patch|fix|pr|change|commit)(?: (?:in|for|from|on) (?:bug \d+|#\d+|prlink|issuelink|the \w+ (?:bug|issue)))? (?:has |have |was |is |got )?(?:now |just )?(?:landed|merged)\b|\b(?:has been|was) reverted and (?:published|released)\b/,
  },
  {
    name: 'tracked-for-release',
    weight: 2,
    scope: 'statement',
    pattern: new RegExp(
      String.raw`\btrack(?:ing|ed)\s+(?:this\s+|it\s+)?(?:for|in|against|as|under)\b|\b(?:targeted|scheduled|planned|milestoned|slated|nominated)\s+(?:for|at)\s+(?:the\s+)?${TARGET}|\bships? there\b`,
    ),
  },
  {
    name: 'nothing-left',
    weight: 2,
    scope: 'statement',
    pattern:
      /\bnothing (?:more|else|further|left) to (?:track|do|fix)\b|\b(?:we )?can (?:finally )?close this\b|\bassum\w* (?:this|it) (?:has been|is) (?:resolved|fixed)\b|\b(?:has|have) been (?:labell?ed|marked) (?:as )?fixed\b|\bmarking (?:this )?(?:as )?(?:fixed|resolved|verified)\b|\bis up and running\b/,
  },
  {
    name: 'not-worked-on',
    weight: 2,
    scope: 'statement',
    pattern:
      /\b(?:nobody|no one|noone) (?:is|has (?:been )?)(?:working|looked|picked)|\b(?:haven'?t|have not|hasn'?t) (?:been able to )?(?:prioriti[sz]e|start(?:ed)? (?:working|on)|got(?:ten)? to (?:it|this))/,
  },
  {
    name: 'status-for-followers',
    weight: 1,
    pattern:
      /\bfor (?:those|everyone|anyone) (?:who (?:are|is) )?(?:coming here|following|subscribed|watching|waiting)|\bto update on\b/,
  },
];

/** A sentence that says the item is still not right ("still broken in 1.8"): no delivery in it counts. */
export const STILL_BROKEN = /\bstill (?:an issue|broken|happening|failing|present|occurring|there)\b/;

/** Words just before a delivery phrase that deny it ("not released on npm", "isn't fixed in 2.0"). */
export const NEGATION_BEFORE = /(?:\bnot|n't|\bnever|\bno longer|\bnor)\s+(?:\w+\s+)?$/;

/** Hoping or wishing for a release is not telling it ("I hope the new release is out soon"). */
export const HOPED_DELIVERY = /\bi (?:hope|wish)\b|\blooking forward\b|\bcan'?t wait\b|\bi'?d (?:love|like)\b/;

/** A question that asks someone to check a delivered fix: the delivery in it is still told, not asked. */
export const VERIFY_REQUEST =
  /\b(?:can|could|would|will) (?:you|anyone|someone|somebody|anybody|u)(?: affected by this)?(?: please)? (?:try|verify|confirm|check|test|install|let (?:me|us) know|give it a (?:try|go|shot))|\bplease (?:verify|confirm|check|try|test)\b/;

/** A product manager passing engineering's word on ("the team says", "checked with Sam"), in six languages. */
export const RELAY_ATTRIBUTION: Cue[] = [
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

/** A status lead-in ("Update:", "FYI"); counts for a product manager together with delivery words. */
export const RELAY_LEAD_IN: Cue = {
  name: 'status-lead-in',
  weight: 1,
  pattern: /^\W*(?:(?:quick|short|small) )?(?:status(?: update)?|update|fyi|heads up|good news|update for \w+)\b/,
};

/** Delivery words that make a PM's attributed or "Update:" comment a relay. */
export const RELAY_CONTENT =
  /\b(?:fix(?:ed)?|hotfix|patch|ships?|shipped|releas\w*|deploy\w*|merged|in review|review|pr|code-?complete|in progress|qa|staging|prod(?:uction)?|sprint|eta|blocked|roll(?:ed)? ?back|mitigat\w*|live|done|finished|root cause|reproduced|working on|picked (?:it )?up|waiting on|scheduled|planned|target date|tomorrow|tmrw|tonight|next week|this week|end of (?:week|sprint)|back to normal|\d+(?:-\d+)? days|another (?:day|week)|day or two|couple (?:of )?days|recovering|failover|monday|tuesday|wednesday|thursday|friday|behoben|fertig|arbeiten dran|morgen|montag|dienstag|mittwoch|donnerstag|freitag|correctif|livre|en cours|prevu|mise en prod|deploye|semaine prochaine|en revue|lundi|mardi|mercredi|jeudi|vendredi|correccion|arreglado|revision|lunes|martes|miercoles|jueves|viernes|correcao|revisao|producao|semana que vem|previsao|segunda|terca|quarta|quinta|sexta|gepland|volgende (?:week|sprint)|maandag|dinsdag|woensdag|donderdag|vrijdag)\b/;

/** Release notes and changelogs mention fixes and ETAs without asking or telling anyone: `other`. */
export const RELEASE_NOTES =
  /^\W*(?:#+\s*)?(?:release notes?|release \d|changelog|notes de version|versionshinweise|notas de (?:la )?version)\b/;

/** Comments written by bots and templates: stale bots, dependency updaters, issue-template reminders, CI reports. */
export const BOT_CUES: Cue[] = [
  {
    name: 'bot:stale',
    weight: 0,
    pattern:
      /\b(?:has been |was )?automatically (?:marked|closed|locked)\b|\bmarked as stale\b|\bgone quiet\b|\bclose issues after \d+ days\b|\bprolonged period of inactivity\b|\bno activity has occurred\b|\bwill (?:auto-?close|be closed) (?:in \d+ days )?(?:without|if no)\b|\blost track of this issue\b/,
  },
  {
    name: 'bot:dependency-update',
    weight: 0,
    pattern:
      /\bgreenkeeper\b|\bdependabot\b|\bdepfu\b|\brenovate\b|^\W*bumps? [\w@/.-]+ from [\w.-]+ to\b|\bupdates? the requirements on\b|\bversion [\w.-]+ of [\w@/.-]+ (?:was )?just (?:got )?published\b|\bjust got published\b|\bjust published its new version\b|\bthe (?:dev)?dependency [\w@/.-]+ was updated from\b|\bthis pr contains the following updates\b|\bthere'?s a new version of [\w@/.-]+ available\b/,
  },
  {
    name: 'bot:template',
    weight: 0,
    pattern:
      /\bthis (?:message|comment) (?:is|was) automatically posted\b|\bthis is an automated (?:comment|message)\b|\bi am a bot\b|\bwe require the template\b|\bwe get a lot of issues\b|\bwe really appreciate you taking the time to report\b|\bhere is what will happen next\b|\bthis issue (?:has been|was) migrated from\b|\bcodecov report\b|\bcve-\d{4}-\d+ - \w+ severity\b|\bunfortunately the information you provided is incomplete\b|\bnot enough interest from the team\b/,
  },
];

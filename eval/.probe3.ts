import { RELAY_CUES, NEGATED_DELIVERY } from '../src/domain/middleman.cues.js';
const t = process.argv[2]!;
for (const c of RELAY_CUES) console.log(c.name, c.pattern.exec(t)?.[0]);
console.log('neg', NEGATED_DELIVERY.exec(t)?.[0]);

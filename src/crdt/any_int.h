/* any_int.h: what any.c shares with any_json.c and nothing else. */
#ifndef SB_CRDT_ANY_INT_H
#define SB_CRDT_ANY_INT_H

#include "crdt/any.h"

/* Turns properties in arrival order into what assigning them one by one to
 * a JavaScript object gives: duplicates merged (first position, last
 * value), array-index keys first in numeric order, the rest in arrival
 * order; with drop_proto, "__proto__" removed (a plain assignment sets the
 * prototype; JSON.parse, by contrast, makes it an own key). O(n log n), so
 * many keys cannot make decoding quadratic. */
void crdt__any_normalize_object(crdt_any *obj, bool drop_proto);

#endif

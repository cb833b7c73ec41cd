/*
 * marker.c: Yjs's search markers (AbstractType.js findMarker,
 * updateMarkerChanges, Item.mergeWith), reproduced exactly, for the one
 * case where they change what an edit makes.
 *
 * Markers are a lookup cache in Yjs, but not an invisible one: a text
 * position found from a marker starts with no attributes in force, while
 * one found from the start has seen every format item before it, so a
 * plain insert can take other formatting (and a delete clean up other
 * format items) depending on the markers. Yjs drops a text's markers for
 * good when a format item is integrated into it, so this only matters in
 * a text that holds format items without having seen one integrated: a
 * root that formats reached before the application declared it as a Text
 * (Doc.get replaces the placeholder type with a new YText, which starts
 * with empty markers and no formatting flag). For such texts (ym_exact)
 * the engine keeps the markers Yjs keeps: the same positions, the same
 * replacement order (oldest timestamp out, at most 80), the same
 * adjustments, and the stale "marked" bits Yjs leaves on items when a
 * remote change drops a text's markers.
 */
#include <stdlib.h>

#include "crdt/crdt_int.h"

static bool live_counted(const crdt_item *it)
{
    return !(it->flags & CRDT_F_DELETED) && crdt__countable(it);
}

static uint64_t absdiff(uint64_t a, uint64_t b)
{
    return a > b ? a - b : b - a;
}

static void overwrite(crdt_doc *d, crdt_ymark *m, crdt_item *p, uint64_t index)
{
    m->p->flags &= (uint8_t)~CRDT_F_MARKER;
    m->p = p;
    p->flags |= CRDT_F_MARKER;
    m->index = index;
    m->ts = ++d->ymark_clock;
}

static crdt_ymark *mark_position(crdt_doc *d, crdt_ymarks *ym, crdt_item *p, uint64_t index)
{
    if (ym->n >= CRDT_YMARK_MAX) {
        crdt_ymark *old = &ym->m[0];
        for (uint32_t i = 1; i < ym->n; i++)
            if (!(old->ts < ym->m[i].ts))
                old = &ym->m[i];
        overwrite(d, old, p, index);
        return old;
    }
    crdt_ymark *m = &ym->m[ym->n++];
    *m = (crdt_ymark){p, index, ++d->ymark_clock};
    p->flags |= CRDT_F_MARKER;
    return m;
}

crdt_ymark *crdt__ymark_find(crdt_doc *d, crdt_type *t, uint64_t index)
{
    if (!t->start || index == 0)
        return NULL;
    if (!t->ym)
        t->ym = sb_calloc(1, sizeof(crdt_ymarks));
    crdt_ymarks *ym = t->ym;
    /* the closest marker; of equally close ones the last (Array.reduce) */
    crdt_ymark *m = NULL;
    for (uint32_t i = 0; i < ym->n; i++)
        if (!m || !(absdiff(index, m->index) < absdiff(index, ym->m[i].index)))
            m = &ym->m[i];
    crdt_item *p = t->start;
    uint64_t pindex = 0;
    if (m) {
        p = m->p;
        pindex = m->index;
        m->ts = ++d->ymark_clock;
    }
    while (p->right && pindex < index) {
        if (live_counted(p)) {
            if (index < pindex + p->length)
                break;
            pindex += p->length;
        }
        p = p->right;
    }
    while (p->left && pindex > index) {
        p = p->left;
        if (live_counted(p))
            pindex -= p->length;
    }
    /* never on an item whose left neighbour's ids it continues */
    while (p->left && p->left->id.client == p->id.client &&
           p->left->id.clock + p->left->length == p->id.clock) {
        p = p->left;
        if (live_counted(p))
            pindex -= p->length;
    }
    /* |m.index - pindex| < length / 80, in integers */
    if (m && absdiff(m->index, pindex) * CRDT_YMARK_MAX < t->length) {
        overwrite(d, m, p, pindex);
        return m;
    }
    return mark_position(d, ym, p, pindex);
}

void crdt__ymark_changes(crdt_type *t, uint64_t index, int64_t len)
{
    crdt_ymarks *ym = t->ym;
    if (!ym)
        return;
    for (uint32_t i = ym->n; i-- > 0;) {
        crdt_ymark *m = &ym->m[i];
        if (len > 0) {
            crdt_item *p = m->p;
            p->flags &= (uint8_t)~CRDT_F_MARKER;
            while (p && !live_counted(p)) {
                p = p->left;
                if (p && live_counted(p))
                    m->index -= p->length;
            }
            if (!p || (p->flags & CRDT_F_MARKER)) {
                for (uint32_t k = i + 1; k < ym->n; k++)
                    ym->m[k - 1] = ym->m[k];
                ym->n--;
                continue;
            }
            m->p = p;
            p->flags |= CRDT_F_MARKER;
        }
        if (index < m->index || (len > 0 && index == m->index)) {
            int64_t moved = (int64_t)m->index + len;
            m->index = moved > (int64_t)index ? (uint64_t)moved : index;
        }
    }
}

void crdt__ymark_merged(crdt_type *t, crdt_item *l, crdt_item *r)
{
    crdt_ymarks *ym = t->ym;
    if (!ym)
        return;
    for (uint32_t i = 0; i < ym->n; i++) {
        if (ym->m[i].p == r) {
            ym->m[i].p = l;
            if (live_counted(l))
                ym->m[i].index -= l->length;
        }
    }
}

void crdt__ymark_drop(crdt_type *t)
{
    free(t->ym);
    t->ym = NULL;
    t->ym_exact = false;
}

/*
 * index.c: the series index of one database: a hash table from canonical
 * series key to series, series by id, measurements with their fields
 * (one type per field for the database's life) and the inverted index
 * from tag pairs to the series that carry them.
 *
 * Everything here runs under the database's lock (engine_int.h): writers
 * exclusively, readers shared. Series, measurements and fields are never
 * freed before the database, so readers may keep pointers to them (and to
 * the names and tags inside) while they hold a reference to the database.
 */
#include "tsdb/engine_int.h"

#include <stdlib.h>

#include "base/hash.h"

uint64_t tsdb__key_hash(sb_str key)
{
    return sb_hash(key.ptr, key.len);
}

tsdb__db *tsdb__db_new(sb_str name, uint64_t gen, int64_t retention, const char *dir)
{
    tsdb__db *d = sb_calloc(1, sizeof(*d));
    atomic_init(&d->refs, 1);
    d->name = sb_str_make(sb_strndup(name.ptr, name.len), name.len);
    d->gen = gen;
    atomic_init(&d->retention, retention);
    d->dir = sb_strdup(dir);
    pthread_rwlockattr_t attr;
    pthread_rwlockattr_init(&attr);
    /* glibc's rwlocks prefer readers by default: a stream of queries would
     * starve writes. */
    pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    pthread_rwlock_init(&d->lock, &attr);
    pthread_rwlockattr_destroy(&attr);
    sb_map_init(&d->meas);
    return d;
}

void tsdb__db_ref(tsdb__db *d)
{
    atomic_fetch_add(&d->refs, 1);
}

static void sfield_free(tsdb__sfield *sf, unsigned nroll)
{
    tsdb_type t = sf->mf->type;
    tsdb__head_free(&sf->head, t);
    tsdb__head_free(&sf->frozen, t);
    for (size_t i = 0; i < sf->blocks.len; i++)
        tsdb__file_unref(sf->blocks.items[i].file);
    sb_vec_free(&sf->blocks);
    for (unsigned i = 0; i < nroll; i++)
        sb_vec_free(&sf->roll[i]);
}

void tsdb__db_unref(tsdb__db *d)
{
    if (!d || atomic_fetch_sub(&d->refs, 1) != 1)
        return;
    for (size_t i = 0; i < d->series.len; i++) {
        tsdb__series *s = d->series.items[i];
        for (uint32_t j = 0; j < s->nfields; j++)
            sfield_free(&s->fields[j], TSDB_MAX_ROLLUPS);
        free(s->fields);
        free(s);
    }
    sb_vec_free(&d->series);
    free(d->slots);
    size_t it = 0;
    sb_map_entry *me;
    while ((me = sb_map_next(&d->meas, &it))) {
        tsdb__meas *m = me->value;
        for (size_t i = 0; i < m->fields.len; i++) {
            free((char *)m->fields.items[i]->name.ptr);
            free(m->fields.items[i]);
        }
        sb_vec_free(&m->fields);
        sb_vec_free(&m->series);
        size_t it2 = 0;
        sb_map_entry *te;
        while ((te = sb_map_next(&m->tags, &it2))) {
            tsdb__posting *p = te->value;
            sb_vec_free(p);
            free(p);
        }
        sb_map_deinit(&m->tags);
        free((char *)m->name.ptr);
        free(m);
    }
    sb_map_deinit(&d->meas);
    for (size_t i = 0; i < d->files.len; i++)
        tsdb__file_unref(d->files.items[i]);
    sb_vec_free(&d->files);
    pthread_rwlock_destroy(&d->lock);
    free((char *)d->name.ptr);
    free(d->dir);
    free(d);
}

tsdb__series *tsdb__series_find(const tsdb__db *d, sb_str key, uint64_t hash)
{
    if (!d->nslots)
        return NULL;
    size_t mask = d->nslots - 1;
    for (size_t i = hash & mask;; i = (i + 1) & mask) {
        tsdb__series *s = d->slots[i];
        if (!s)
            return NULL;
        if (s->hash == hash && sb_str_eq(s->key, key))
            return s;
    }
}

static void slots_insert(tsdb__series **slots, size_t n, tsdb__series *s)
{
    size_t mask = n - 1;
    size_t i = s->hash & mask;
    while (slots[i])
        i = (i + 1) & mask;
    slots[i] = s;
}

void tsdb__tag_pair(sb_buf *out, sb_str k, sb_str v)
{
    sb_buf_reset(out);
    tsdb__put_uvarint(out, k.len);
    sb_buf_append_str(out, k);
    sb_buf_append_str(out, v);
}

tsdb__meas *tsdb__meas_get(tsdb__db *d, sb_str name, bool create)
{
    tsdb__meas *m = sb_map_get(&d->meas, name);
    if (m || !create)
        return m;
    m = sb_calloc(1, sizeof(*m));
    m->name = sb_str_make(sb_strndup(name.ptr, name.len), name.len);
    sb_map_init(&m->tags);
    sb_map_put(&d->meas, name, m);
    return m;
}

tsdb__mfield *tsdb__mfield_find(const tsdb__meas *m, sb_str name)
{
    for (size_t i = 0; i < m->fields.len; i++)
        if (sb_str_eq(m->fields.items[i]->name, name))
            return m->fields.items[i];
    return NULL;
}

tsdb__mfield *tsdb__mfield_add(tsdb__meas *m, sb_str name, tsdb_type type)
{
    tsdb__mfield *f = sb_malloc(sizeof(*f));
    f->name = sb_str_make(sb_strndup(name.ptr, name.len), name.len);
    f->type = type;
    sb_vec_push(&m->fields, f);
    return f;
}

tsdb__sfield *tsdb__sfield_find(tsdb__series *s, sb_str name)
{
    for (uint32_t i = 0; i < s->nfields; i++)
        if (sb_str_eq(s->fields[i].mf->name, name))
            return &s->fields[i];
    return NULL;
}

tsdb__sfield *tsdb__sfield_get(const tsdb_engine *e, tsdb__series *s, tsdb__mfield *mf)
{
    for (uint32_t i = 0; i < s->nfields; i++)
        if (s->fields[i].mf == mf)
            return &s->fields[i];
    if (s->nfields == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 1;
        s->fields = sb_realloc(s->fields, s->cap * sizeof(*s->fields));
    }
    tsdb__sfield *sf = &s->fields[s->nfields++];
    memset(sf, 0, sizeof(*sf));
    sf->mf = mf;
    sf->max_time = INT64_MIN;
    (void)e;
    return sf;
}

tsdb__series *tsdb__series_add(tsdb__db *d, sb_str key, uint64_t hash, const tsdb_point *p)
{
    sb_arena a;
    sb_arena_init(&a, 0);
    sb_buf line = SB_BUF_INIT;
    tsdb_point parsed;
    if (!p) {
        /* From a log record or a block file: the key is all there is. It
         * must parse back to itself, or the bytes are not ours. */
        sb_buf_append_str(&line, key);
        sb_buf_puts(&line, " _=0i 0");
        tsdb_line_opts lo = {.precision = TSDB_PREC_NS, .limits = TSDB_LINE_LIMITS_DEFAULT};
        sb_errbuf err;
        if (tsdb_line_parse(sb_buf_str(&line), &lo, &a, &parsed, &err) != TSDB_E_OK ||
            !sb_str_eq(parsed.series_key, key)) {
            sb_buf_free(&line);
            sb_arena_deinit(&a);
            return NULL;
        }
        p = &parsed;
    }
    size_t bytes = sizeof(tsdb__series) + p->ntags * sizeof(tsdb_tag) + key.len;
    for (size_t i = 0; i < p->ntags; i++)
        bytes += p->tags[i].key.len + p->tags[i].value.len;
    tsdb__series *s = sb_calloc(1, bytes);
    s->tags = (tsdb_tag *)(s + 1);
    char *c = (char *)(s->tags + p->ntags);
    memcpy(c, key.ptr, key.len);
    s->key = sb_str_make(c, key.len);
    c += key.len;
    for (size_t i = 0; i < p->ntags; i++) {
        sb_str k = p->tags[i].key, v = p->tags[i].value;
        memcpy(c, k.ptr, k.len);
        s->tags[i].key = sb_str_make(c, k.len);
        c += k.len;
        memcpy(c, v.ptr, v.len);
        s->tags[i].value = sb_str_make(c, v.len);
        c += v.len;
    }
    s->ntags = p->ntags;
    s->hash = hash;
    s->m = tsdb__meas_get(d, p->measurement, true);

    /* Ids are dense: the id is the index in d->series + 1. */
    sb_vec_push(&d->series, s);
    s->id = d->series.len;
    if ((d->series.len + 1) * 2 > d->nslots) {
        size_t n = d->nslots ? d->nslots * 2 : 1024;
        tsdb__series **slots = sb_calloc(n, sizeof(*slots));
        for (size_t i = 0; i + 1 < d->series.len; i++)
            slots_insert(slots, n, d->series.items[i]);
        free(d->slots);
        d->slots = slots;
        d->nslots = n;
    }
    slots_insert(d->slots, d->nslots, s);

    tsdb__meas *m = s->m;
    sb_vec_push(&m->series, s);
    sb_buf pair = SB_BUF_INIT;
    for (size_t i = 0; i < s->ntags; i++) {
        tsdb__tag_pair(&pair, s->tags[i].key, s->tags[i].value);
        tsdb__posting *post = sb_map_get(&m->tags, sb_buf_str(&pair));
        if (!post) {
            post = sb_calloc(1, sizeof(*post));
            sb_map_put(&m->tags, sb_buf_str(&pair), post);
        }
        sb_vec_push(post, s);
    }
    sb_buf_free(&pair);
    sb_buf_free(&line);
    sb_arena_deinit(&a);
    return s;
}

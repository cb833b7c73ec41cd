/*
 * exec_show.c: the SHOW statements, in the shapes InfluxDB 1.x answers:
 *
 *   DATABASES          one series "databases", column "name" (always written)
 *   MEASUREMENTS       one series "measurements", column "name"
 *   TAG KEYS           a series per measurement, column "tagKey"
 *   TAG VALUES         a series per measurement, columns "key", "value"
 *   FIELD KEYS         a series per measurement, columns "fieldKey", "fieldType"
 *   SERIES             one series without a name, column "key"
 *   RETENTION POLICIES one series without a name: name, duration,
 *                      shardGroupDuration, replicaN, default
 *
 * WHERE filters on tags (series that do not match do not count); LIMIT and
 * OFFSET apply to the rows of each series written.
 */
#include <stdlib.h>

#include "base/vec.h"
#include "tsdb/exec_int.h"

typedef SB_VEC(sb_str) str_vec;

static int cmp_str(const void *x, const void *y)
{
    const sb_str *a = x, *b = y;
    size_t n = a->len < b->len ? a->len : b->len;
    int r = n ? memcmp(a->ptr, b->ptr, n) : 0;
    return r ? r : (a->len > b->len) - (a->len < b->len);
}

static void sort_unique(str_vec *v)
{
    if (v->len)
        qsort(v->items, v->len, sizeof(sb_str), cmp_str);
    size_t u = 0;
    for (size_t i = 0; i < v->len; i++)
        if (u == 0 || !sb_str_eq(v->items[u - 1], v->items[i]))
            v->items[u++] = v->items[i];
    v->len = u;
}

typedef struct collect {
    ex_ctx *c;
    str_vec v;
    sb_str regex; /* ptr set: keep matching names only */
} collect;

static int collect_cb(void *arg, sb_str name)
{
    collect *l = arg;
    if (l->regex.ptr) {
        bool m;
        if (!ex__match(l->c, l->regex, name, &m))
            return 1;
        if (!m)
            return 0;
    }
    sb_vec_push(&l->v, ex__dup(l->c, name));
    return 0;
}

static bool storage_fail(ex_ctx *c, int rc, const sb_errbuf *err)
{
    if (c->failed)
        return true;
    if (rc < 0) {
        ex__source_fail(c, rc, err);
        return true;
    }
    return false;
}

/* One column of string rows, with LIMIT/OFFSET. */
static void write_list(ex_ctx *c, sb_str name, const sb_str *tk, const sb_str *tv, size_t nt,
                       const char *column, const str_vec *v, const iql_show *sh)
{
    sb_str col = sb_str_c(column);
    ex__series_begin(c, name, tk, tv, nt, &col, 1);
    size_t w = 0;
    for (size_t i = 0; i < v->len; i++) {
        if ((int64_t)i < sh->offset)
            continue;
        if (sh->limit && (int64_t)w >= sh->limit)
            break;
        ex__row_begin(c, w++);
        ex__json_str(c->series, v->items[i]);
        sb_buf_putc(c->series, ']');
    }
    ex__series_end(c, w);
}

/* The measurements a SHOW reads: FROM (names or regexes), WITH
 * MEASUREMENT, or all of them. */
static bool measurements(ex_ctx *c, sb_str db, const iql_show *sh, str_vec *out)
{
    collect l = {.c = c};
    sb_errbuf err = {{0}};
    if (sh->nsources) {
        for (size_t i = 0; i < sh->nsources; i++) {
            if (sh->sources[i].regex.ptr) {
                l.regex = sh->sources[i].regex;
                int rc = c->src->vt->measurements(c->src, db, collect_cb, &l, &err);
                if (storage_fail(c, rc, &err))
                    goto fail;
            } else {
                sb_vec_push(&l.v, sh->sources[i].name);
            }
        }
    } else {
        if (sh->has_measurement && sh->measurement.regex.ptr)
            l.regex = sh->measurement.regex;
        int rc = c->src->vt->measurements(c->src, db, collect_cb, &l, &err);
        if (storage_fail(c, rc, &err))
            goto fail;
        if (sh->has_measurement && !sh->measurement.regex.ptr) {
            size_t u = 0;
            for (size_t i = 0; i < l.v.len; i++)
                if (sb_str_eq(l.v.items[i], sh->measurement.name))
                    l.v.items[u++] = l.v.items[i];
            l.v.len = u;
        }
    }
    sort_unique(&l.v);
    *out = l.v;
    return true;
fail:
    sb_vec_free(&l.v);
    return false;
}

/* What a walk over the series that pass the WHERE clause collects. */
typedef enum swalk_what {
    SW_ANY,        /* whether one matches */
    SW_TAG_KEYS,   /* their tag keys */
    SW_TAG_VALUES, /* "key\0value" of the wanted keys */
    SW_SERIES,     /* their series keys */
} swalk_what;

typedef struct swalk {
    ex_ctx *c;
    const iql_show *sh;
    ex_schema schema; /* empty: SHOW conditions are on tags */
    str_vec *keys;
    swalk_what what;
    size_t matched;
} swalk;

static bool key_wanted(ex_ctx *c, const iql_show *sh, sb_str key)
{
    if (sh->key_regex.ptr) {
        bool m;
        if (!ex__match(c, sh->key_regex, key, &m))
            return false;
        return sh->key_op == IQL_OP_NEQ_REGEX ? !m : m;
    }
    bool in = false;
    for (size_t i = 0; i < sh->nkeys; i++)
        in |= sb_str_eq(sh->keys[i], key);
    return sh->key_op == IQL_OP_NEQ ? !in : in;
}

static int swalk_cb(void *arg, const tsdb_series_info *si)
{
    swalk *w = arg;
    ex_ctx *c = w->c;
    if (w->sh->where) {
        ex_env env = {&w->schema, si->tags, si->ntags, NULL, c->o->now_ns};
        ex_val v = ex__eval(c, w->sh->where, &env);
        if (c->failed)
            return 1;
        if (ex__truth(&v) == 0)
            return 0;
    }
    w->matched++;
    switch (w->what) {
    case SW_ANY:
        return 1; /* one is enough */
    case SW_TAG_KEYS:
        for (size_t i = 0; i < si->ntags; i++)
            sb_vec_push(w->keys, ex__dup(c, si->tags[i].key));
        break;
    case SW_TAG_VALUES:
        for (size_t i = 0; i < si->ntags; i++) {
            if (!key_wanted(c, w->sh, si->tags[i].key))
                continue;
            /* "key\0value" so that one sort orders by key, then value. */
            sb_buf b = SB_BUF_INIT;
            sb_buf_append_str(&b, si->tags[i].key);
            sb_buf_putc(&b, 0);
            sb_buf_append_str(&b, si->tags[i].value);
            sb_vec_push(w->keys, ex__dup(c, sb_buf_str(&b)));
            sb_buf_free(&b);
        }
        break;
    case SW_SERIES:
        sb_vec_push(w->keys, ex__dup(c, si->key));
        break;
    }
    return c->failed;
}

static bool walk_series(ex_ctx *c, sb_str db, sb_str m, const iql_show *sh, swalk_what what,
                        str_vec *keys, size_t *matched)
{
    swalk w = {.c = c, .sh = sh, .keys = keys, .what = what};
    sb_errbuf err = {{0}};
    tsdb_tag must[32];
    size_t nmust = ex__must_tags(sh->where, &w.schema, must, 32);
    int rc = c->src->vt->series(c->src, db, m, must, nmust, swalk_cb, &w, &err);
    if (storage_fail(c, rc, &err))
        return false;
    if (matched)
        *matched = w.matched;
    return true;
}

static void show_databases(ex_ctx *c, const iql_show *sh)
{
    collect l = {.c = c};
    sb_errbuf err = {{0}};
    int rc = c->src->vt->databases(c->src, collect_cb, &l, &err);
    if (!storage_fail(c, rc, &err)) {
        sort_unique(&l.v);
        write_list(c, SB_STR("databases"), NULL, NULL, 0, "name", &l.v, sh);
    }
    sb_vec_free(&l.v);
}

static void show_per_measurement(ex_ctx *c, const iql_stmt *st, sb_str db)
{
    const iql_show *sh = &st->show;
    str_vec ms = {0};
    if (!measurements(c, db, sh, &ms))
        return;
    str_vec all = {0};
    for (size_t i = 0; i < ms.len && !c->failed; i++) {
        sb_str m = ms.items[i];
        str_vec keys = {0};
        size_t matched = 0;
        switch (st->kind) {
        case IQL_SHOW_MEASUREMENTS:
            if (!sh->where) {
                sb_vec_push(&all, m);
            } else if (walk_series(c, db, m, sh, SW_ANY, &keys, &matched) && matched) {
                sb_vec_push(&all, m);
            }
            break;
        case IQL_SHOW_TAG_KEYS:
            if (walk_series(c, db, m, sh, SW_TAG_KEYS, &keys, NULL)) {
                sort_unique(&keys);
                if (keys.len)
                    write_list(c, m, NULL, NULL, 0, "tagKey", &keys, sh);
            }
            break;
        case IQL_SHOW_SERIES:
            if (walk_series(c, db, m, sh, SW_SERIES, &keys, NULL))
                for (size_t k = 0; k < keys.len; k++)
                    sb_vec_push(&all, keys.items[k]);
            break;
        case IQL_SHOW_TAG_VALUES:
            if (walk_series(c, db, m, sh, SW_TAG_VALUES, &keys, NULL)) {
                sort_unique(&keys);
                if (!keys.len)
                    break;
                sb_str cols[2] = {SB_STR("key"), SB_STR("value")};
                ex__series_begin(c, m, NULL, NULL, 0, cols, 2);
                size_t w = 0;
                for (size_t k = 0; k < keys.len; k++) {
                    if ((int64_t)k < sh->offset)
                        continue;
                    if (sh->limit && (int64_t)w >= sh->limit)
                        break;
                    sb_str kv = keys.items[k];
                    size_t z = (size_t)sb_str_index(kv, 0, 0);
                    ex__row_begin(c, w++);
                    ex__json_str(c->series, sb_str_slice(kv, 0, z));
                    sb_buf_putc(c->series, ',');
                    ex__json_str(c->series, sb_str_slice(kv, z + 1, kv.len));
                    sb_buf_putc(c->series, ']');
                }
                ex__series_end(c, w);
            }
            break;
        default:
            break;
        }
        sb_vec_free(&keys);
    }
    if (!c->failed && st->kind == IQL_SHOW_MEASUREMENTS && all.len)
        write_list(c, SB_STR("measurements"), NULL, NULL, 0, "name", &all, sh);
    if (!c->failed && st->kind == IQL_SHOW_SERIES && all.len) {
        sort_unique(&all);
        write_list(c, SB_STR_NULL, NULL, NULL, 0, "key", &all, sh);
    }
    sb_vec_free(&all);
    sb_vec_free(&ms);
}

typedef struct fk_walk {
    ex_ctx *c;
    str_vec names, types;
} fk_walk;

static int fk_cb(void *arg, sb_str name, tsdb_type type)
{
    fk_walk *w = arg;
    sb_vec_push(&w->names, ex__dup(w->c, name));
    sb_vec_push(&w->types, sb_str_c(tsdb_type_name(type)));
    return 0;
}

static void show_field_keys(ex_ctx *c, const iql_show *sh, sb_str db)
{
    str_vec ms = {0};
    if (!measurements(c, db, sh, &ms))
        return;
    for (size_t i = 0; i < ms.len && !c->failed; i++) {
        fk_walk w = {.c = c};
        sb_errbuf err = {{0}};
        int rc = c->src->vt->fields(c->src, db, ms.items[i], fk_cb, &w, &err);
        if (!storage_fail(c, rc, &err) && w.names.len) {
            sb_str cols[2] = {SB_STR("fieldKey"), SB_STR("fieldType")};
            ex__series_begin(c, ms.items[i], NULL, NULL, 0, cols, 2);
            size_t n = 0;
            for (size_t k = 0; k < w.names.len; k++) {
                if ((int64_t)k < sh->offset)
                    continue;
                if (sh->limit && (int64_t)n >= sh->limit)
                    break;
                ex__row_begin(c, n++);
                ex__json_str(c->series, w.names.items[k]);
                sb_buf_putc(c->series, ',');
                ex__json_str(c->series, w.types.items[k]);
                sb_buf_putc(c->series, ']');
            }
            ex__series_end(c, n);
        }
        sb_vec_free(&w.names);
        sb_vec_free(&w.types);
    }
    sb_vec_free(&ms);
}

static void show_retention_policies(ex_ctx *c)
{
    /* The engine keeps one policy a database, InfluxDB's default. */
    sb_str cols[5] = {SB_STR("name"), SB_STR("duration"), SB_STR("shardGroupDuration"),
                      SB_STR("replicaN"), SB_STR("default")};
    ex__series_begin(c, SB_STR_NULL, NULL, NULL, 0, cols, 5);
    ex__row_begin(c, 0);
    sb_buf_puts(c->series, "\"autogen\",\"0s\",\"168h0m0s\",1,true]");
    ex__series_end(c, 1);
}

void ex__show(ex_ctx *c, const iql_stmt *st)
{
    if (st->kind == IQL_SHOW_DATABASES) {
        show_databases(c, &st->show);
        return;
    }
    sb_str db;
    if (!ex__resolve_db(c, st->show.on, &db))
        return;
    switch (st->kind) {
    case IQL_SHOW_RETENTION_POLICIES:
        show_retention_policies(c);
        break;
    case IQL_SHOW_FIELD_KEYS:
        show_field_keys(c, &st->show, db);
        break;
    default:
        show_per_measurement(c, st, db);
        break;
    }
}

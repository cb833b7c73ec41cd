/* projects_write_test.c: a write answers its own row. Two connections
 * write one file (and one page) at once with no precondition, each
 * thousands of times; every answer must carry the version that write made
 * and the content it wrote. Read back after the commit, an answer could be
 * the other writer's row: a shared version, which the collaboration rooms
 * take as one their document holds, so a REST write was lost.
 * drivers: sqlite postgres */
#include "cmocka_prelude.h"

#include <jansson.h>
#include <pthread.h>
#include <stdlib.h>

#include "projects/projects.h"
#include "store/store_int.h"
#include "store_fixture.h"

#define PROJECT "01a21734-9339-76e8-b612-a4b7b255d806"
#define WRITES  400 /* per writer: the old read-back failed each of 4 runs, on both drivers */

typedef fixture_db fx;

static int test_no;
static projects_limits limits;

static int setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    test_no++;
    if (fixture_db_open(f, "pw", test_no) != 0 || fixture_db_project(f, PROJECT) != 0)
        return -1;
    limits = projects_limits_default();
    *state = f;
    return 0;
}

/* Sitebase's own writes (no policy, no actor), on db. */
static projects_ctx ctx_on(store *db)
{
    return (projects_ctx){.db = db, .limits = &limits, .now_us = 1, .system = true};
}

typedef enum { FILE_PUT, PAGE_PUT } what;

typedef struct writer {
    const fx *f;
    what kind;
    char page_id[SB_UUID_STR_LEN];
    size_t len;            /* every write's content length: this writer's mark */
    int64_t vers[WRITES];  /* the version each write answered */
    int wrong_len, errors; /* answers showing another write's content; failures */
} writer;

/* One write of w's content; *ver the version answered; the length of the
 * content the answer shows (size of a file, name of a page). */
static projects_err write_once(projects_ctx *c, writer *w, int i, int64_t *ver, size_t *shown)
{
    char text[64];
    snprintf(text, sizeof text, "%0*d", (int)w->len, i);
    sb_buf out = SB_BUF_INIT;
    sb_jw jw;
    sb_jw_init(&jw, &out);
    projects_problem p = {0};
    projects_err e;
    if (w->kind == FILE_PUT) {
        e = projects_file_put(c, sb_str_c(PROJECT), sb_str_c("src/race.js"), sb_str_c(text), 0, &jw,
                              ver, &p);
    } else {
        projects_page_input in = {.name = sb_str_c(text), .published = -1};
        e = projects_page_put(c, sb_str_c(PROJECT), sb_str_c(w->page_id), &in, 0, &jw, ver, &p);
    }
    json_t *o = e == PROJECTS_OK ? json_loadb(out.ptr, out.len, 0, NULL) : NULL;
    *shown = w->kind == FILE_PUT ? (size_t)json_integer_value(json_object_get(o, "size"))
                                 : json_string_length(json_object_get(o, "name"));
    json_decref(o);
    sb_buf_free(&out);
    return e;
}

static void *writer_main(void *arg)
{
    writer *w = arg;
    store *db;
    sb_errbuf err;
    /* A connection of its own, as each loop thread of the server has. */
    if (store_open(driver == STORE_SQLITE ? NULL : w->f->url,
                   driver == STORE_SQLITE ? w->f->data : NULL, &db, &err) != STORE_OK) {
        w->errors = WRITES;
        return NULL;
    }
    projects_ctx c = ctx_on(db);
    for (int i = 0; i < WRITES; i++) {
        size_t shown = 0;
        if (write_once(&c, w, i, &w->vers[i], &shown) != PROJECTS_OK)
            w->errors++;
        else if (shown != w->len)
            w->wrong_len++;
    }
    store_close(db);
    return NULL;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* A file or a page to write (its id into page_id), then two writers of
 * kind at once; every answer is the writer's own. */
static void race(const fx *f, what kind)
{
    projects_ctx c = ctx_on(f->s);
    sb_buf out = SB_BUF_INIT;
    sb_jw jw;
    sb_jw_init(&jw, &out);
    projects_problem p = {0};
    char page_id[SB_UUID_STR_LEN] = "";
    projects_page_input in = {.name = sb_str_c("Home"), .path = sb_str_c("/"), .published = -1};
    assert_int_equal(kind == FILE_PUT
                         ? projects_file_create(&c, sb_str_c(PROJECT), sb_str_c("src/race.js"),
                                                sb_str_c(""), (sb_str){0}, &jw, &p)
                         : projects_page_create(&c, sb_str_c(PROJECT), &in, &jw, page_id, &p),
                     PROJECTS_OK);
    sb_buf_free(&out);
    static writer w[2];
    pthread_t t[2];
    for (int k = 0; k < 2; k++) {
        w[k] = (writer){.f = f, .kind = kind, .len = k ? 12 : 5};
        snprintf(w[k].page_id, sizeof w[k].page_id, "%s", page_id);
        assert_int_equal(pthread_create(&t[k], NULL, writer_main, &w[k]), 0);
    }
    for (int k = 0; k < 2; k++)
        pthread_join(t[k], NULL);
    static int64_t all[2 * WRITES];
    for (int k = 0; k < 2; k++) {
        assert_int_equal(w[k].errors, 0);
        assert_int_equal(w[k].wrong_len, 0);
        memcpy(all + k * WRITES, w[k].vers, sizeof w[k].vers);
    }
    qsort(all, 2 * WRITES, sizeof all[0], cmp_i64);
    /* Versions 2 .. 2*WRITES+1, each answered once. */
    for (int i = 0; i < 2 * WRITES; i++)
        assert_int_equal(all[i], i + 2);
}

static void test_file_puts_answer_their_own_row(void **state)
{
    race(*state, FILE_PUT);
}

static void test_page_puts_answer_their_own_row(void **state)
{
    race(*state, PAGE_PUT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_file_puts_answer_their_own_row, setup,
                                        fixture_db_teardown),
        cmocka_unit_test_setup_teardown(test_page_puts_answer_their_own_row, setup,
                                        fixture_db_teardown),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}

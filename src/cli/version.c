/* version.c: `sitebase version`. */
#include <stdio.h>
#include <string.h>

#include <h2o/version.h>
#include <jansson.h>
#include <libpq-fe.h>
#include <openssl/opensslv.h>
#include <sqlite3.h>

#include "cli/cli.h"

int cli_version(int argc, char **argv)
{
    if (argc > 0 && (strcmp(argv[0], "--help") == 0 || strcmp(argv[0], "-h") == 0)) {
        printf("usage: sitebase version\n\nPrints the version of sitebase and its libraries.\n");
        return 0;
    }
    printf("sitebase %s\n", SITEBASE_VERSION);
    printf("  h2o %s, sqlite %s, libpq %d, jansson %s, %s\n", H2O_VERSION, sqlite3_libversion(),
           PQlibVersion(), JANSSON_VERSION, OPENSSL_VERSION_TEXT);
    return 0;
}

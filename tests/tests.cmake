# Test registration. Everything runs under ctest:
#   tests/unit/<module>_test.c      cmocka, one executable per module
#   tests/integration/<name>.sh     drive the real binary with curl / node
# A test whose source has a line "drivers: sqlite postgres" runs once per
# driver ("drivers: postgres": on PostgreSQL only); the postgres runs share a throwaway server (tests/pg.sh) that a
# ctest fixture starts before them and stops after.
find_library(CMOCKA_LIB cmocka REQUIRED)

set(SB_PG_DIR ${CMAKE_BINARY_DIR}/pg)
add_test(NAME fixture.postgres.start COMMAND bash ${CMAKE_SOURCE_DIR}/tests/pg.sh start ${SB_PG_DIR})
add_test(NAME fixture.postgres.stop COMMAND bash ${CMAKE_SOURCE_DIR}/tests/pg.sh stop ${SB_PG_DIR})
set_tests_properties(fixture.postgres.start PROPERTIES FIXTURES_SETUP postgres)
set_tests_properties(fixture.postgres.stop PROPERTIES FIXTURES_CLEANUP postgres)

set(SB_TEST_ENV
    SITEBASE_BIN=$<TARGET_FILE:sitebase>
    SITEBASE_TEST_BIN=$<TARGET_FILE:sitebase-test>
    SITEBASE_SOURCE_DIR=${CMAKE_SOURCE_DIR}
    SITEBASE_TEST_PG_URL_FILE=${SB_PG_DIR}/url
    SITEBASE_BUS_TEST=$<TARGET_FILE:bus_api_test>
    LSAN_OPTIONS=suppressions=${CMAKE_SOURCE_DIR}/tests/lsan.supp:print_suppressions=0
    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1)

# sb_add_test(name command... SOURCE file): registers per driver if asked;
# "drivers: postgres" alone registers only name.postgres (several processes
# sharing one database).
function(sb_add_test name src)
    file(STRINGS ${src} drivers_line REGEX "drivers: sqlite postgres" LIMIT_COUNT 1)
    file(STRINGS ${src} pg_only_line REGEX "^# drivers: postgres$" LIMIT_COUNT 1)
    if(pg_only_line)
        add_test(NAME ${name}.postgres COMMAND ${ARGN})
        set_tests_properties(${name}.postgres PROPERTIES
            ENVIRONMENT "${SB_TEST_ENV};SITEBASE_TEST_DB=postgres" TIMEOUT 300
            FIXTURES_REQUIRED postgres)
    elseif(drivers_line)
        foreach(driver sqlite postgres)
            add_test(NAME ${name}.${driver} COMMAND ${ARGN})
            set_tests_properties(${name}.${driver} PROPERTIES
                ENVIRONMENT "${SB_TEST_ENV};SITEBASE_TEST_DB=${driver}" TIMEOUT 300)
            if(driver STREQUAL "postgres")
                set_tests_properties(${name}.${driver} PROPERTIES FIXTURES_REQUIRED postgres)
            endif()
        endforeach()
    else()
        add_test(NAME ${name} COMMAND ${ARGN})
        set_tests_properties(${name} PROPERTIES
            ENVIRONMENT "${SB_TEST_ENV};SITEBASE_TEST_DB=sqlite" TIMEOUT 300)
    endif()
endfunction()

file(GLOB SB_UNIT_TESTS CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/tests/unit/*_test.c)
foreach(src ${SB_UNIT_TESTS})
    get_filename_component(name ${src} NAME_WE)
    # Link the smallest library that holds the module under test, so a
    # module's tests build without the layers above it.
    string(REGEX REPLACE "_test$" "" module ${name})
    if(module MATCHES "^store")
        set(lib sb_store)
    elseif(module MATCHES "^identity")
        set(lib sb_identity)
    elseif(module MATCHES "^crypto")
        set(lib sb_crypto)
    elseif(module MATCHES "^blob")
        set(lib sb_blob)
    elseif(module MATCHES "^(authz|projects|history)")
        set(lib sb_domain)
    elseif(module MATCHES "^vcs")
        set(lib sb_vcs)
    elseif(module MATCHES "^mail")
        set(lib sb_mail)
    elseif(module MATCHES "^crdt")
        set(lib sb_crdt)
    elseif(module MATCHES "^collab")
        set(lib sb_collab)
    elseif(module MATCHES "^bus")
        set(lib sb_bus)
    elseif(module MATCHES "^net")
        set(lib sb_net)
    elseif(module MATCHES "^tsdb")
        set(lib sb_tsdb)
    elseif(module MATCHES "^analytics")
        set(lib sb_analytics)
    elseif(EXISTS ${CMAKE_SOURCE_DIR}/src/base/${module}.c)
        set(lib sb_base)
    else()
        set(lib sb_app)
    endif()
    add_executable(${name} ${src})
    target_link_libraries(${name} PRIVATE ${lib} ${CMOCKA_LIB})
    sb_add_test(unit.${name} ${src} $<TARGET_FILE:${name}>)
endforeach()

file(GLOB SB_INTEGRATION_TESTS CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/tests/integration/*.sh)
foreach(src ${SB_INTEGRATION_TESTS})
    get_filename_component(name ${src} NAME_WE)
    if(name STREQUAL "tsdb_diff")
        continue()  # registered per tsdb driver below
    endif()
    sb_add_test(integration.${name} ${src} bash ${src})
endforeach()

# The time-series differential test once per tsdb driver: "local" checks
# the embedded engine and executor against InfluxDB 1.6, "influx" checks
# the forwarding driver and the harness itself.
foreach(driver local influx)
    add_test(NAME integration.tsdb_diff.${driver}
             COMMAND bash ${CMAKE_SOURCE_DIR}/tests/integration/tsdb_diff.sh ${driver})
    set_tests_properties(integration.tsdb_diff.${driver} PROPERTIES
        ENVIRONMENT "${SB_TEST_ENV};SITEBASE_TEST_DB=sqlite" TIMEOUT 300)
endforeach()

# The C engine of the CRDT differential tests (tests/crdt/PROTOCOL.md).
add_executable(ycli ${CMAKE_SOURCE_DIR}/tests/crdt/ycli.c)
target_link_libraries(ycli PRIVATE sb_crdt)

# The random differential test against the C engine: thousands of cases
# per run (a new seed each run, printed), bounded in time.
add_test(NAME integration.crdt_diff_c
         COMMAND bash ${CMAKE_SOURCE_DIR}/tests/integration/crdt_diff.sh)
set_tests_properties(integration.crdt_diff_c PROPERTIES
    ENVIRONMENT "${SB_TEST_ENV};SITEBASE_CRDT_ENGINE=$<TARGET_FILE:ycli>;SITEBASE_CRDT_CASES=2000;SITEBASE_CRDT_SECONDS=150;SITEBASE_CRDT_SELFCHECK=0"
    TIMEOUT 400)

# The real editing traces through the C engine's local edits: the final text,
# and the state Yjs loads from the engine (tests/crdt/traces.mjs).
add_test(NAME integration.crdt_traces_c
         COMMAND bash ${CMAKE_SOURCE_DIR}/tests/integration/crdt_traces.sh)
set_tests_properties(integration.crdt_traces_c PROPERTIES
    ENVIRONMENT "${SB_TEST_ENV};SITEBASE_CRDT_ENGINE=$<TARGET_FILE:ycli>" TIMEOUT 300)

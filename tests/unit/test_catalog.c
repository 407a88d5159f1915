/* Tests of the catalog: loading, matching and rejecting bad files. */
#include "../../src/common/catalog.h"
#include "check.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static const char *write_temp(const char *content)
{
    static char path[64];
    FILE *file;

    snprintf(path, sizeof(path), "/tmp/urna-test-catalog-%d.json", (int)getpid());
    file = fopen(path, "w");
    fputs(content, file);
    fclose(file);
    return path;
}

static void test_real_catalog(void)
{
    char errbuf[256];
    struct catalog *catalog = catalog_load(URNA_SOURCE_DIR "/data/catalog.json", errbuf, sizeof(errbuf));
    int expected = 0;

    CHECK(catalog != NULL);
    if (catalog == NULL)
        return;
    CHECK(catalog_album_count(catalog) > 50);
    CHECK_INT(catalog_check(catalog, "Alux Nahual", "Conquista", 1982, &expected), CATALOG_MATCH,
              "known album");
    CHECK_INT(catalog_check(catalog, "Alux Nahual", "Conquista", 1983, &expected),
              CATALOG_YEAR_MISMATCH, "wrong year");
    CHECK_INT(expected, 1982, "expected year");
    CHECK_INT(catalog_check(catalog, "Alux Nahual", "8", 2023, &expected), CATALOG_UNKNOWN_ALBUM,
              "album of another band");
    CHECK_INT(catalog_check(catalog, "Nadie", "8", 2023, &expected), CATALOG_UNKNOWN_BAND,
              "unknown band");
    CHECK_INT(catalog_check(catalog, "Malacates Trébol Shop", "Sólo éxitos… (dicen)", 2005,
                            &expected),
              CATALOG_MATCH, "accents");
    catalog_free(catalog);
}

static void test_bad_files(void)
{
    const char *bad[] = {
        "not json",
        "{\"contestants\": []}",
        "{\"contestants\": [{\"name\": 3, \"albums\": []}]}",
        "{\"contestants\": [{\"name\": \"a\", \"albums\": [{\"album\": \"b\"}]}]}",
        "{\"contestants\": [{\"name\": \"a\", \"albums\": [{\"album\": \"b\", \"year\": \"1990\"}]}]}",
    };
    char errbuf[256];

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct catalog *catalog = catalog_load(write_temp(bad[i]), errbuf, sizeof(errbuf));

        CHECK(catalog == NULL);
        CHECK(strstr(errbuf, "catalog") != NULL);
        catalog_free(catalog);
    }
    CHECK(catalog_load("/nonexistent/catalog.json", errbuf, sizeof(errbuf)) == NULL);
    CHECK(strstr(errbuf, "/nonexistent/catalog.json") != NULL);
    remove(write_temp(""));
}

int main(void)
{
    test_real_catalog();
    test_bad_files();
    return check_exit("catalog");
}

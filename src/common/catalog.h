/* The contest's catalog: which bands compete, with which albums and years. */
#ifndef URNA_CATALOG_H
#define URNA_CATALOG_H

#include <stddef.h>

struct catalog;

enum catalog_match {
    CATALOG_MATCH,
    CATALOG_UNKNOWN_BAND,
    CATALOG_UNKNOWN_ALBUM,
    CATALOG_YEAR_MISMATCH,
};

/* Loads catalog.json ({"contestants": [{"name", "albums": [{"album", "year"}]}]}).
 * Names are stored in Unicode NFC so that they compare with normalized votes.
 * Returns NULL and fills errbuf on failure; the caller frees with catalog_free. */
struct catalog *catalog_load(const char *path, char *errbuf, size_t errlen);

void catalog_free(struct catalog *catalog);

/* Checks band, album and year (all NFC); when the year does not match, stores
 * the catalog's year in expected_year. */
enum catalog_match catalog_check(const struct catalog *catalog, const char *band,
                                 const char *album, int year, int *expected_year);

size_t catalog_album_count(const struct catalog *catalog);

#endif

#include "catalog.h"

#include "text.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct catalog_album {
    char *band;
    char *album;
    int year;
};

struct catalog {
    struct catalog_album *albums;
    size_t count;
};

void catalog_free(struct catalog *catalog)
{
    if (catalog == NULL)
        return;
    for (size_t i = 0; i < catalog->count; i++) {
        free(catalog->albums[i].band);
        free(catalog->albums[i].album);
    }
    free(catalog->albums);
    free(catalog);
}

/* Appends one album entry; returns 0, or -1 with errbuf filled. */
static int catalog_add(struct catalog *catalog, const char *band, json_t *entry,
                       char *errbuf, size_t errlen)
{
    json_t *album = json_object_get(entry, "album");
    json_t *year = json_object_get(entry, "year");
    struct catalog_album *slot;

    if (!json_is_string(album) || !json_is_integer(year)) {
        snprintf(errbuf, errlen, "album of \"%s\" needs a string \"album\" and an integer \"year\"",
                 band);
        return -1;
    }

    slot = &catalog->albums[catalog->count];
    slot->band = text_nfc_dup(band);
    slot->album = text_nfc_dup(json_string_value(album));
    slot->year = (int)json_integer_value(year);
    catalog->count++;
    if (slot->band == NULL || slot->album == NULL) {
        snprintf(errbuf, errlen, "\"%s\" is not valid UTF-8 or memory ran out", band);
        return -1;
    }
    return 0;
}

/* Counts the albums of all contestants so one allocation holds them. */
static size_t count_albums(json_t *contestants)
{
    size_t index, total = 0;
    json_t *band;

    json_array_foreach(contestants, index, band)
        total += json_array_size(json_object_get(band, "albums"));
    return total;
}

static int catalog_fill(struct catalog *catalog, json_t *contestants, char *errbuf,
                        size_t errlen)
{
    size_t index, album_index;
    json_t *band, *album;

    json_array_foreach(contestants, index, band) {
        json_t *name = json_object_get(band, "name");
        json_t *albums = json_object_get(band, "albums");

        if (!json_is_string(name) || !json_is_array(albums)) {
            snprintf(errbuf, errlen, "contestant %zu needs a string \"name\" and an array \"albums\"",
                     index);
            return -1;
        }
        json_array_foreach(albums, album_index, album) {
            if (catalog_add(catalog, json_string_value(name), album, errbuf, errlen) != 0)
                return -1;
        }
    }
    return 0;
}

struct catalog *catalog_load(const char *path, char *errbuf, size_t errlen)
{
    struct catalog *catalog = NULL;
    json_error_t error;
    json_t *root, *contestants;
    char detail[160];

    root = json_load_file(path, JSON_REJECT_DUPLICATES, &error);
    if (root == NULL) {
        snprintf(errbuf, errlen, "cannot read catalog %s: line %d: %s", path, error.line,
                 error.text);
        return NULL;
    }

    contestants = json_object_get(root, "contestants");
    if (!json_is_array(contestants) || json_array_size(contestants) == 0) {
        snprintf(errbuf, errlen, "catalog %s has no \"contestants\" array", path);
        goto out;
    }

    catalog = calloc(1, sizeof(*catalog));
    if (catalog == NULL)
        goto out;
    catalog->albums = calloc(count_albums(contestants) + 1, sizeof(*catalog->albums));
    if (catalog->albums == NULL || catalog_fill(catalog, contestants, detail, sizeof(detail)) != 0) {
        snprintf(errbuf, errlen, "catalog %s is invalid: %s", path,
                 catalog->albums == NULL ? "out of memory" : detail);
        catalog_free(catalog);
        catalog = NULL;
    }

out:
    json_decref(root);
    return catalog;
}

enum catalog_match catalog_check(const struct catalog *catalog, const char *band,
                                 const char *album, int year, int *expected_year)
{
    int band_found = 0;

    for (size_t i = 0; i < catalog->count; i++) {
        const struct catalog_album *entry = &catalog->albums[i];

        if (strcmp(entry->band, band) != 0)
            continue;
        band_found = 1;
        if (strcmp(entry->album, album) != 0)
            continue;
        if (entry->year == year)
            return CATALOG_MATCH;
        *expected_year = entry->year;
        return CATALOG_YEAR_MISMATCH;
    }
    return band_found ? CATALOG_UNKNOWN_ALBUM : CATALOG_UNKNOWN_BAND;
}

size_t catalog_album_count(const struct catalog *catalog)
{
    return catalog->count;
}

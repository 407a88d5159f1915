/* Tests of environment configuration: defaults, parsing, and messages that
 * name the variable. */
#include "../../src/common/config.h"
#include "check.h"

#include <stdio.h>
#include <stdlib.h>

static void test_long(void)
{
    char errbuf[256];
    long value = 0;

    unsetenv("URNA_TEST_LONG");
    CHECK_INT(config_long("URNA_TEST_LONG", 42, 1, 100, &value, errbuf, sizeof(errbuf)), 0, "default");
    CHECK_INT(value, 42, "default value");

    setenv("URNA_TEST_LONG", "7", 1);
    CHECK_INT(config_long("URNA_TEST_LONG", 42, 1, 100, &value, errbuf, sizeof(errbuf)), 0, "set");
    CHECK_INT(value, 7, "set value");

    const char *bad[] = {"abc", "7x", "0", "101", "99999999999999999999999"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        setenv("URNA_TEST_LONG", bad[i], 1);
        CHECK_INT(config_long("URNA_TEST_LONG", 42, 1, 100, &value, errbuf, sizeof(errbuf)), -1, bad[i]);
        CHECK(strstr(errbuf, "URNA_TEST_LONG") != NULL);
    }
}

static void test_host_port(void)
{
    char errbuf[256], host[64];
    int port = 0;

    unsetenv("URNA_TEST_ADDR");
    CHECK_INT(config_host_port("URNA_TEST_ADDR", "127.0.0.1:8000", host, sizeof(host), &port, errbuf, sizeof(errbuf)), 0, "default");
    CHECK_STR(host, "127.0.0.1", "host");
    CHECK_INT(port, 8000, "port");

    const char *bad[] = {"127.0.0.1", ":80", "host:0", "host:70000", "host:8x"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        setenv("URNA_TEST_ADDR", bad[i], 1);
        CHECK_INT(config_host_port("URNA_TEST_ADDR", "x:1", host, sizeof(host), &port, errbuf, sizeof(errbuf)), -1, bad[i]);
        CHECK(strstr(errbuf, "URNA_TEST_ADDR") != NULL);
    }
}

static void test_secret(void)
{
    char errbuf[256], secret[64];
    const char *path = "/tmp/urna-test-secret";
    FILE *file = fopen(path, "w");

    fputs("s3cret\n", file);
    fclose(file);
    unsetenv("URNA_TEST_SECRET");
    setenv("URNA_TEST_SECRET_FILE", path, 1);
    CHECK_INT(config_secret("URNA_TEST_SECRET", 1, secret, sizeof(secret), errbuf, sizeof(errbuf)), 0, "from file");
    CHECK_STR(secret, "s3cret", "file value without newline");

    unsetenv("URNA_TEST_SECRET_FILE");
    CHECK_INT(config_secret("URNA_TEST_SECRET", 1, secret, sizeof(secret), errbuf, sizeof(errbuf)), -1, "required");
    CHECK(strstr(errbuf, "URNA_TEST_SECRET_FILE") != NULL);
    CHECK_INT(config_secret("URNA_TEST_SECRET", 0, secret, sizeof(secret), errbuf, sizeof(errbuf)), 0, "optional");
    CHECK_STR(secret, "", "optional empty");
    remove(path);
}

int main(void)
{
    test_long();
    test_host_port();
    test_secret();
    return check_exit("config");
}

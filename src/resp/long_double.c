/* INCRBYFLOAT's arithmetic, exactly as Redis does it: long double (80-bit
 * x87 on x86-64), parsed with strtold, printed with %.17Lf and trailing
 * zeros trimmed. Rust has no 80-bit float and f64 gives other digits
 * (Redis answers 0.1 + 0.2 with "0.3"), hence this file. Linked into
 * libcorewire.a; called only from src/resp/cmd/incr.rs. */
#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_LONG_DOUBLE_CHARS (5 * 1024) /* as Redis */

/* Redis's string2ld. Returns 1 and sets *out for a valid float. */
static int parse_long_double(const char *text, size_t len, long double *out) {
  char buf[MAX_LONG_DOUBLE_CHARS];
  char *end;
  if (len == 0 || len >= sizeof(buf)) return 0;
  memcpy(buf, text, len);
  buf[len] = '\0';
  errno = 0;
  long double value = strtold(buf, &end);
  /* end must be the real end: a NUL inside the value is not a float. */
  if (buf[0] == ' ' || (buf[0] >= '\t' && buf[0] <= '\r') || end != buf + len ||
      (errno == ERANGE &&
       (value == HUGE_VALL || value == -HUGE_VALL || fpclassify(value) == FP_ZERO)) ||
      errno == EINVAL || isnan(value))
    return 0;
  *out = value;
  return 1;
}

/* value == NULL means a missing key (0). Returns 0 with the result text in
 * out[0..*out_len], 1 if either input is not a valid float, 2 if the sum is
 * NaN or infinite, 3 if out is too small. */
int cw_incr_by_float(const char *value, size_t value_len, const char *incr,
                     size_t incr_len, char *out, size_t out_cap,
                     size_t *out_len) {
  long double current = 0, delta;
  if (value != NULL && !parse_long_double(value, value_len, &current)) return 1;
  if (!parse_long_double(incr, incr_len, &delta)) return 1;
  current += delta;
  if (isnan(current) || isinf(current)) return 2;
  int len = snprintf(out, out_cap, "%.17Lf", current);
  if (len < 0 || (size_t)len + 1 > out_cap) return 3;
  if (memchr(out, '.', (size_t)len) != NULL) {
    while (out[len - 1] == '0') len--;
    if (out[len - 1] == '.') len--;
  }
  if (len == 2 && out[0] == '-' && out[1] == '0') {
    out[0] = '0';
    len = 1;
  }
  *out_len = (size_t)len;
  return 0;
}

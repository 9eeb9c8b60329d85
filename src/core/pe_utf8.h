/*
 * pe_utf8.h
 *		The one UTF-8 decoder and encoder of the core.
 *
 * Every reader of names (stored values, pprof, folded text, SVG, the
 * gateway's JSON) decodes with pe_utf8_decode, so all agree on what valid
 * UTF-8 is: no overlong forms, no surrogates, nothing past U+10FFFF.
 */
#ifndef PE_UTF8_H
#define PE_UTF8_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* U+FFFD, the replacement character, in UTF-8. */
#define PE_UTF8_REPLACEMENT			"\xEF\xBF\xBD"
#define PE_UTF8_REPLACEMENT_LEN		3

/*
 * Decode the character at s (avail > 0 bytes): the bytes of its sequence
 * (1 to 4) with *cp set, or 0 when no valid sequence starts there.  A NUL
 * byte is a valid character (U+0000) here; pe_utf8_valid refuses it.
 */
extern int	pe_utf8_decode(const unsigned char *s, size_t avail, uint32_t *cp);

/* Length of the valid sequence at s, or 0 for an invalid one or a NUL byte. */
extern int	pe_utf8_seq_len(const unsigned char *s, size_t avail);

/* Whether s is valid UTF-8 without NUL bytes. */
extern bool pe_utf8_valid(const char *s, size_t len);

/* Write code point cp (at most U+10FFFF, no surrogate) to out; returns 1 to 4. */
extern int	pe_utf8_encode(uint32_t cp, char out[4]);

#endif							/* PE_UTF8_H */

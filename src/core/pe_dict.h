/*
 * pe_dict.h
 *		The frozen zstd dictionary of stored format version 4 (docs/FORMAT.md).
 *
 * Made once by tools/dict/make_dict.sh from JDK and Go standard library
 * function names; its bytes are part of the format forever.
 */
#ifndef PE_DICT_H
#define PE_DICT_H

#define PE_DICT_V4_ID		1346699268u	/* 0x50450004: "PE", version 4 */
#define PE_DICT_V4_SIZE		112640

/* The dictionary's bytes (one more: the literal's terminating NUL, not part of it). */
extern const unsigned char pe_dict_v4[PE_DICT_V4_SIZE + 1];

#endif							/* PE_DICT_H */

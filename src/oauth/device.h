/* SPDX-License-Identifier: Apache-2.0
 * User codes of the device authorization grant (RFC 8628 6.1): 8 letters from a 20-consonant
 * alphabet with no vowels (no words) and no look-alikes, shown as XXXX-XXXX, typed in any case
 * with or without the dash. */
#ifndef KG_OAUTH_DEVICE_H
#define KG_OAUTH_DEVICE_H

#include <stdbool.h>

#define KG_USER_CODE_LEN 8

void kg_user_code_new(char out[KG_USER_CODE_LEN + 1]);
/* Uppercases and drops dashes and spaces; false unless exactly 8 letters of the alphabet remain
 * (input longer than 32 bytes is refused before looking at it). */
bool kg_user_code_normalize(const char *in, char out[KG_USER_CODE_LEN + 1]);
/* XXXX-XXXX */
void kg_user_code_display(const char *code, char out[KG_USER_CODE_LEN + 2]);

#endif

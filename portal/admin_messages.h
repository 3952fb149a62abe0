/* admin_messages.h - the lab's messages: the searchable list and one
 * message's recipients and timeline. */
#ifndef PORTAL_ADMIN_MESSAGES_H
#define PORTAL_ADMIN_MESSAGES_H

#include "admin.h"

void admin_messages_list(struct admin *a);
void admin_message_page(struct admin *a, const char *id);
/* "YYYY-MM-DD" to the Unix time of its midnight UTC; -1 when malformed. */
int admin_parse_day(const char *s, long long *out);

#endif

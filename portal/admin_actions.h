/* admin_actions.h - what a sender-admin changes: retract a message, all
 * of a reference or one recipient's copy, change expiry, unlock. */
#ifndef PORTAL_ADMIN_ACTIONS_H
#define PORTAL_ADMIN_ACTIONS_H

#include "admin.h"

void admin_retract_message(struct admin *a, const char *id);
void admin_set_expiry(struct admin *a, const char *id);
void admin_retract_delivery(struct admin *a, long long id);
void admin_unlock_delivery(struct admin *a, long long id);
void admin_retract_reference(struct admin *a);

#endif

/* api_messages.h - message status, events and lifecycle over the API. */
#ifndef PORTAL_API_MESSAGES_H
#define PORTAL_API_MESSAGES_H

#include "api.h"

void api_messages_list(struct api *a);
void api_message_get(struct api *a, const char *id);
void api_message_events(struct api *a, const char *id);
void api_message_retract(struct api *a, const char *id);
/* POST /messages/retract?reference=REF */
void api_reference_retract(struct api *a);
void api_message_expiry(struct api *a, const char *id);
void api_delivery_retract(struct api *a, long long id);
void api_delivery_unlock(struct api *a, long long id);

#endif

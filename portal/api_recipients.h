/* api_recipients.h - PUT /api/v1/recipients. */
#ifndef PORTAL_API_RECIPIENTS_H
#define PORTAL_API_RECIPIENTS_H

#include "api.h"

void api_recipients_put(struct api *a);

#endif

/* admin_upload.h - recipients CSV upload on the admin pages. */
#ifndef PORTAL_ADMIN_UPLOAD_H
#define PORTAL_ADMIN_UPLOAD_H

#include "admin.h"

#define ADMIN_UPLOAD_MAX (8 * 1024 * 1024)

void admin_upload_form(struct admin *a);
void admin_upload_post(struct admin *a);

#endif

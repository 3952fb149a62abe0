/* queue.h - sealmail-smsd's side of sms_queue: find due rows, claim one
 * (so two senders never send the same row at once), and record what the
 * gateway said.  A row only ever changes state; it is never deleted here. */
#ifndef SM_SMS_QUEUE_H
#define SM_SMS_QUEUE_H

#include <time.h>

#include "crypto.h"
#include "err.h"
#include "sms.h"

struct db;

struct queue_row {
	long long id;
	long long lab_id;
	char message_id[SM_ID_HEX];
	long long delivery_id;
	char phone[SMS_PHONE_MAX + 1];
	unsigned char sealed[SMS_SEALED_MAX];
	size_t sealed_len;
	int attempts;
	long long created;
};

/* Fills ids[] with up to cap due row ids (oldest first); *n their number. */
int queue_due(struct db *db, time_t now, long long *ids, size_t cap,
    size_t *n, struct sm_err *err);
/* 1 and *row filled when this process now holds row id for lease seconds,
 * 0 when another sender took it or it is no longer due. */
int queue_claim(struct db *db, long long id, time_t now, int lease,
    struct queue_row *row, struct sm_err *err);

struct queue_policy {
	int retry_min, retry_max, max_age;
};

/* Seconds to wait after the given number of failed attempts. */
long long queue_backoff(const struct queue_policy *qp, int attempts);

/* The gateway took it: state sent and the sms_sent event. */
int queue_mark_sent(struct db *db, const struct queue_row *row, time_t now,
    const char *reason, struct sm_err *err);
/* A failed attempt: sms_failed event; the row is retried after the backoff,
 * or failed for good when permanent or older than max_age.  *final says
 * which. */
int queue_mark_failed(struct db *db, const struct queue_row *row, time_t now,
    const struct queue_policy *qp, int permanent, const char *reason,
    int *final, struct sm_err *err);

#endif

/* The settle queue: candidates keyed by path, each due a settle time after
 * its newest event (or a backoff after a failure). A hash table finds a path,
 * a binary min-heap orders the deadlines; both bounded by the queue's cap. */
#include "ingest.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* First sizes of the heap array and the bucket array; both double on demand. */
#define QUEUE_INITIAL_SLOTS 64

struct ingest_queue {
	size_t cap;
	size_t n;
	struct ingest_item **heap;
	size_t heap_alloc;
	struct ingest_item **buckets;
	size_t nbuckets; /* a power of two */
	uint64_t seq;
};

static uint64_t hash_key(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ULL; /* FNV-1a */

	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 0x100000001b3ULL;
	}
	return h;
}

static bool item_before(const struct ingest_item *a, const struct ingest_item *b)
{
	if (a->due_ms != b->due_ms)
		return a->due_ms < b->due_ms;
	return a->seq < b->seq;
}

static void heap_set(struct ingest_queue *q, size_t pos, struct ingest_item *it)
{
	q->heap[pos] = it;
	it->heap_pos = pos;
}

static void sift_up(struct ingest_queue *q, size_t pos)
{
	struct ingest_item *it = q->heap[pos];

	while (pos > 0) {
		size_t parent = (pos - 1) / 2;

		if (!item_before(it, q->heap[parent]))
			break;
		heap_set(q, pos, q->heap[parent]);
		pos = parent;
	}
	heap_set(q, pos, it);
}

static void sift_down(struct ingest_queue *q, size_t pos)
{
	struct ingest_item *it = q->heap[pos];

	for (;;) {
		size_t child = 2 * pos + 1;

		if (child >= q->n)
			break;
		if (child + 1 < q->n && item_before(q->heap[child + 1], q->heap[child]))
			child++;
		if (!item_before(q->heap[child], it))
			break;
		heap_set(q, pos, q->heap[child]);
		pos = child;
	}
	heap_set(q, pos, it);
}

static struct ingest_item *find(const struct ingest_queue *q, const char *key, uint64_t h)
{
	for (struct ingest_item *it = q->buckets[h & (q->nbuckets - 1)]; it; it = it->next) {
		if (it->hash == h && !strcmp(it->key, key))
			return it;
	}
	return NULL;
}

static void unlink_hash(struct ingest_queue *q, struct ingest_item *it)
{
	struct ingest_item **pp = &q->buckets[it->hash & (q->nbuckets - 1)];

	while (*pp && *pp != it)
		pp = &(*pp)->next;
	if (*pp)
		*pp = it->next;
	it->next = NULL;
}

/* Make room for one more item in both arrays. 0 or -ENOMEM. */
static int reserve(struct ingest_queue *q)
{
	if (q->n + 1 > q->heap_alloc) {
		size_t na = q->heap_alloc * 2;
		struct ingest_item **nh = realloc(q->heap, na * sizeof(*nh));

		if (!nh)
			return -ENOMEM;
		q->heap = nh;
		q->heap_alloc = na;
	}
	if (q->n + 1 > q->nbuckets) {
		size_t nb = q->nbuckets * 2;
		struct ingest_item **nbk = calloc(nb, sizeof(*nbk));

		if (!nbk)
			return -ENOMEM;
		for (size_t i = 0; i < q->nbuckets; i++) {
			struct ingest_item *it = q->buckets[i];

			while (it) {
				struct ingest_item *next = it->next;

				it->next = nbk[it->hash & (nb - 1)];
				nbk[it->hash & (nb - 1)] = it;
				it = next;
			}
		}
		free(q->buckets);
		q->buckets = nbk;
		q->nbuckets = nb;
	}
	return 0;
}

/* Insert it (room reserved) due at due_ms. */
static void insert(struct ingest_queue *q, struct ingest_item *it, int64_t due_ms)
{
	size_t b = it->hash & (q->nbuckets - 1);

	it->due_ms = due_ms;
	it->seq = q->seq++;
	it->next = q->buckets[b];
	q->buckets[b] = it;
	q->heap[q->n] = it;
	it->heap_pos = q->n;
	q->n++;
	sift_up(q, it->heap_pos);
}

int ingest_queue_new(size_t cap, struct ingest_queue **out)
{
	struct ingest_queue *q;

	if (cap == 0)
		return -EINVAL;
	q = calloc(1, sizeof(*q));
	if (!q)
		return -ENOMEM;
	q->cap = cap;
	q->heap_alloc = QUEUE_INITIAL_SLOTS;
	q->nbuckets = QUEUE_INITIAL_SLOTS;
	q->heap = calloc(q->heap_alloc, sizeof(*q->heap));
	q->buckets = calloc(q->nbuckets, sizeof(*q->buckets));
	if (!q->heap || !q->buckets) {
		ingest_queue_free(q);
		return -ENOMEM;
	}
	*out = q;
	return 0;
}

void ingest_queue_free(struct ingest_queue *q)
{
	if (!q)
		return;
	for (size_t i = 0; i < q->n; i++)
		free(q->heap[i]);
	free(q->heap);
	free(q->buckets);
	free(q);
}

size_t ingest_queue_len(const struct ingest_queue *q)
{
	return q->n;
}

bool ingest_queue_full(const struct ingest_queue *q)
{
	return q->n >= q->cap;
}

int ingest_queue_touch(struct ingest_queue *q, const char *key, int64_t due_ms)
{
	uint64_t h = hash_key(key);
	struct ingest_item *it = find(q, key, h);
	size_t klen;
	int r;

	if (it) {
		if (due_ms > it->due_ms) {
			it->due_ms = due_ms;
			sift_down(q, it->heap_pos);
		}
		return 0;
	}
	if (q->n >= q->cap)
		return -ENOSPC;
	r = reserve(q);
	if (r < 0)
		return r;
	klen = strlen(key);
	it = calloc(1, sizeof(*it) + klen + 1);
	if (!it)
		return -ENOMEM;
	memcpy(it->key, key, klen + 1);
	it->hash = h;
	insert(q, it, due_ms);
	return 1;
}

bool ingest_queue_next_due(const struct ingest_queue *q, int64_t *due_ms)
{
	if (q->n == 0)
		return false;
	*due_ms = q->heap[0]->due_ms;
	return true;
}

int ingest_queue_pop_due(struct ingest_queue *q, int64_t now_ms, struct ingest_item **out)
{
	struct ingest_item *it;

	if (q->n == 0 || q->heap[0]->due_ms > now_ms)
		return 0;
	it = q->heap[0];
	q->n--;
	if (q->n > 0) {
		heap_set(q, 0, q->heap[q->n]);
		sift_down(q, 0);
	}
	unlink_hash(q, it);
	*out = it;
	return 1;
}

int ingest_queue_requeue(struct ingest_queue *q, struct ingest_item *it, int64_t due_ms)
{
	struct ingest_item *cur = find(q, it->key, it->hash);
	int r;

	if (cur) {
		/* A new event came while it was out: keep the later deadline
		 * and the failure count, so the backoff is not reset. */
		if (it->attempts > cur->attempts)
			cur->attempts = it->attempts;
		if (due_ms > cur->due_ms) {
			cur->due_ms = due_ms;
			sift_down(q, cur->heap_pos);
		}
		free(it);
		return 0;
	}
	r = reserve(q);
	if (r < 0) {
		free(it);
		return r;
	}
	insert(q, it, due_ms);
	return 0;
}

void ingest_item_free(struct ingest_item *it)
{
	free(it);
}

int64_t ingest_retry_delay_ms(unsigned attempts)
{
	int64_t d = INGEST_RETRY_BASE_MS;

	for (unsigned i = 1; i < attempts && d < INGEST_RETRY_MAX_MS; i++)
		d *= 2;
	return d < INGEST_RETRY_MAX_MS ? d : INGEST_RETRY_MAX_MS;
}

int ingest_queue_set_attempts(struct ingest_queue *q, const char *key, unsigned attempts)
{
	struct ingest_item *it = find(q, key, hash_key(key));

	if (!it)
		return -ENOENT;
	it->attempts = attempts;
	return 0;
}

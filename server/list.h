/*
 * Intrusive doubly linked lists, and the rules for walking them while a
 * handler may drop elements.  Every list of the server is one of these.
 */
#ifndef SHMFRAME_SERVER_LIST_H
#define SHMFRAME_SERVER_LIST_H

#include <stdbool.h>
#include <stddef.h>

struct sf_list {
	struct sf_list *prev, *next;
};

static inline void list_init(struct sf_list *l)
{
	l->prev = l->next = l;
}

static inline bool list_empty(const struct sf_list *l)
{
	return l->next == l;
}

static inline void list_append(struct sf_list *head, struct sf_list *elm)
{
	elm->prev = head->prev;
	elm->next = head;
	head->prev->next = elm;
	head->prev = elm;
}

/* Unlinks elm and leaves it pointing at itself, so removing twice is safe. */
static inline void list_remove(struct sf_list *elm)
{
	elm->prev->next = elm->next;
	elm->next->prev = elm->prev;
	list_init(elm);
}

/* Moves every element of src to the empty list dst, leaving src empty. */
static inline void list_take_all(struct sf_list *dst, struct sf_list *src)
{
	list_init(dst);
	if (list_empty(src))
		return;
	dst->next = src->next;
	dst->prev = src->prev;
	dst->next->prev = dst;
	dst->prev->next = dst;
	list_init(src);
}

#define sf_container_of(ptr, type, member) \
	((type *)(void *)((char *)(ptr) - offsetof(type, member)))

/* The first element of a non-empty list. */
#define list_first(head, type, member) \
	sf_container_of((head)->next, type, member)

/* Unlinks the first element of a non-empty list and returns it. */
static inline struct sf_list *list_pop(struct sf_list *head)
{
	struct sf_list *first = head->next;

	list_remove(first);
	return first;
}

/*
 * Walks, three kinds, chosen by what the body may do to the list:
 *
 * - list_for_each: the body adds and removes nothing (lookups, counts,
 *   reads).
 * - Every element goes (freeing, closing all): pop the head until the
 *   list is empty, `while (!list_empty(h)) destroy(list_first(h, ...))`.
 * - A handler that may drop any element, not only its own (failing a
 *   client can fail another: a SIGBUS found in one client's turn fails the
 *   client that shrank the segment): move the list aside with
 *   list_take_all, then pop each element from there before handling it,
 *   as libuv runs its idle handles.  What the handler drops is simply not
 *   there to be met; nothing keeps a pointer to the next element.
 *
 * There is deliberately no walk that keeps a pointer to the next element:
 * when a handler removed that element, its links point at itself and such
 * a walk never ends (or, were it freed, reads freed memory).
 */
#define list_for_each(pos, head, type, member)                             \
	for (struct sf_list *pos##_l_ = (head)->next;                         \
	     pos##_l_ != (head) &&                                             \
	     ((pos = sf_container_of(pos##_l_, type, member)), 1);             \
	     pos##_l_ = pos##_l_->next)

#endif

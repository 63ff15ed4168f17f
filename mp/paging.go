package mp

import (
	"context"
	"iter"
)

// openIDPages iterates over the OpenIDs of a list that WeChat pages with a
// next_openid cursor (user/get, user/tag/get, tags/members/getblacklist):
// list is called with "" first, then with the previous page's cursor, until
// a page is empty, has no cursor, or repeats the cursor it was asked for.
// The context is checked before each page; on the first error the iterator
// yields ("", err) once and stops.
func openIDPages(ctx context.Context, list func(next string) (openIDs []string, cursor string, err error)) iter.Seq2[string, error] {
	return func(yield func(string, error) bool) {
		next := ""
		for {
			if err := ctx.Err(); err != nil {
				yield("", err)
				return
			}
			ids, cursor, err := list(next)
			if err != nil {
				yield("", err)
				return
			}
			for _, id := range ids {
				if !yield(id, nil) {
					return
				}
			}
			if len(ids) == 0 || cursor == "" || cursor == next {
				return
			}
			next = cursor
		}
	}
}

// offsetPages iterates over the items of a list that WeChat pages by
// offset and count (draft/batchget, freepublish/batchget): list is called
// with offset 0, then with the number of items seen, until a page is empty
// or the total is reached. The context is checked before each page; on the
// first error the iterator yields (nil, err) once and stops.
func offsetPages[T any](ctx context.Context, list func(offset int) (items []T, total int, err error)) iter.Seq2[*T, error] {
	return func(yield func(*T, error) bool) {
		for off := 0; ; {
			if err := ctx.Err(); err != nil {
				yield(nil, err)
				return
			}
			items, total, err := list(off)
			if err != nil {
				yield(nil, err)
				return
			}
			for i := range items {
				if !yield(&items[i], nil) {
					return
				}
			}
			off += len(items)
			if len(items) == 0 || off >= total {
				return
			}
		}
	}
}

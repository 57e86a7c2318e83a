package httpapi

import (
	"net/http"
	"strconv"

	"github.com/rosterhq/roster/internal/roster"
	"github.com/rosterhq/roster/internal/store"
)

// maxPageLimit bounds one page of a listing.
const maxPageLimit = 1000

// listPaging reads a listing's paging: `limit` with `cursor` (keyset: its cost does not
// grow with the position) or with `page` (1-based page numbers, as Langfuse's list routes
// take). Without any of them the whole list is answered, as Langfuse's clients expect of
// these routes; paged reports whether the caller asked for pages.
type listPaging struct {
	page  store.ListPage
	num   int // page number, 0 when not page-numbered
	paged bool
}

func parsePaging(r *http.Request) (listPaging, error) {
	q := r.URL.Query()
	var lp listPaging
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxPageLimit {
			return lp, roster.E(roster.Invalid, "limit must be a number from 1 to %d", maxPageLimit)
		}
		lp.page.Limit, lp.paged = n, true
	}
	if v := q.Get("page"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1_000_000 {
			return lp, roster.E(roster.Invalid, "page must be a number from 1")
		}
		lp.num, lp.paged = n, true
	}
	if v := q.Get("cursor"); v != "" {
		if !roster.ValidID(v) {
			return lp, roster.E(roster.Invalid, "cursor is not one this server made")
		}
		if lp.num != 0 {
			return lp, roster.E(roster.Invalid, "send cursor or page, not both")
		}
		lp.page.After, lp.paged = v, true
	}
	if lp.paged && lp.page.Limit == 0 {
		lp.page.Limit = 50
	}
	if lp.num > 0 {
		lp.page.Offset = (lp.num - 1) * lp.page.Limit
	}
	return lp, nil
}

// decorate adds the paging fields to a listing's body: the next cursor ("" after the last
// page) and, for page numbers, Langfuse's meta object.
func (lp listPaging) decorate(body map[string]any, next string, count func() (int, error)) error {
	if !lp.paged {
		return nil
	}
	body["cursor"] = next
	if lp.num > 0 {
		total, err := count()
		if err != nil {
			return err
		}
		body["meta"] = PageMeta{Page: lp.num, Limit: lp.page.Limit, TotalItems: total,
			TotalPages: (total + lp.page.Limit - 1) / lp.page.Limit}
	}
	return nil
}

package scim

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
)

// BulkSchema URNs of RFC 7644 section 3.7.
const (
	BulkRequestSchema  = "urn:ietf:params:scim:api:messages:2.0:BulkRequest"
	BulkResponseSchema = "urn:ietf:params:scim:api:messages:2.0:BulkResponse"
)

type bulkOp struct {
	Method  string          `json:"method"`
	BulkID  string          `json:"bulkId,omitempty"`
	Version string          `json:"version,omitempty"`
	Path    string          `json:"path"`
	Data    json.RawMessage `json:"data,omitempty"`
}

type bulkResult struct {
	Method   string          `json:"method"`
	BulkID   string          `json:"bulkId,omitempty"`
	Version  string          `json:"version,omitempty"`
	Location string          `json:"location,omitempty"`
	Status   string          `json:"status"`
	Response json.RawMessage `json:"response,omitempty"`
}

var bulkRef = regexp.MustCompile(`"bulkId:([^"\\]+)"`)

// Bulk answers POST /Bulk (RFC 7644 section 3.7): each operation runs as its own request,
// in order, with "bulkId:x" references replaced by the ids earlier operations created;
// failOnErrors stops after that many errors. An operation that references a bulkId that
// failed or does not exist fails itself, and nothing is half-written.
func (h *Handler) Bulk(w http.ResponseWriter, r *http.Request) error {
	body, err := readBody(r)
	if err != nil {
		return err
	}
	if len(body) > MaxBulkPayload {
		return &ProtocolError{Status: http.StatusRequestEntityTooLarge, ScimType: "tooMany",
			Detail: "the bulk request is larger than maxPayloadSize (" + strconv.Itoa(MaxBulkPayload) + " bytes)"}
	}
	var req struct {
		Schemas      []string `json:"schemas"`
		FailOnErrors *int     `json:"failOnErrors"`
		Operations   []bulkOp `json:"Operations"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		return invalidSyntax("the bulk request is not valid JSON")
	}
	if len(req.Operations) > MaxBulkOperations {
		return &ProtocolError{Status: http.StatusRequestEntityTooLarge, ScimType: "tooMany",
			Detail: "the bulk request has more than maxOperations (" + strconv.Itoa(MaxBulkOperations) + ") operations"}
	}
	created := map[string]string{} // bulkId -> id
	var results []bulkResult
	errorsSeen := 0
	for _, op := range req.Operations {
		if req.FailOnErrors != nil && *req.FailOnErrors > 0 && errorsSeen >= *req.FailOnErrors {
			break
		}
		res := h.bulkOne(r, op, created)
		if st, _ := strconv.Atoi(res.Status); st >= 400 {
			errorsSeen++
		}
		results = append(results, res)
	}
	if results == nil {
		results = []bulkResult{}
	}
	write(w, http.StatusOK, map[string]any{"schemas": []string{BulkResponseSchema}, "Operations": results})
	return nil
}

func bulkError(op bulkOp, status int, scimType, detail string) bulkResult {
	b, _ := json.Marshal(Error{Schemas: []string{ErrorSchema}, Status: strconv.Itoa(status), ScimType: scimType, Detail: detail})
	return bulkResult{Method: op.Method, BulkID: op.BulkID, Status: strconv.Itoa(status), Response: b}
}

func (h *Handler) bulkOne(parent *http.Request, op bulkOp, created map[string]string) bulkResult {
	method := strings.ToUpper(op.Method)
	op.Method = method
	if method == http.MethodPost && op.BulkID == "" {
		return bulkError(op, http.StatusBadRequest, "invalidValue", "a POST operation needs a bulkId")
	}
	// Resolve bulkId references in the path and the data.
	var missing string
	resolve := func(b []byte) []byte {
		return bulkRef.ReplaceAllFunc(b, func(m []byte) []byte {
			id, ok := created[string(bulkRef.FindSubmatch(m)[1])]
			if !ok {
				missing = string(bulkRef.FindSubmatch(m)[1])
				return m
			}
			return []byte(strconv.Quote(id))
		})
	}
	path := op.Path
	if strings.Contains(path, "bulkId:") {
		for k, id := range created {
			path = strings.ReplaceAll(path, "bulkId:"+k, id)
		}
		if strings.Contains(path, "bulkId:") {
			return bulkError(op, http.StatusConflict, "invalidValue", "the path references a bulkId that no earlier operation created")
		}
	}
	data := resolve(op.Data)
	if missing != "" {
		return bulkError(op, http.StatusConflict, "invalidValue", "the data references bulkId "+missing+", which no earlier operation created")
	}
	canon, ok := Canonicalize("/scim/v2" + "/" + strings.TrimPrefix(path, "/"))
	if !ok {
		return bulkError(op, http.StatusBadRequest, "invalidPath", "unknown path "+op.Path)
	}
	rest := strings.TrimPrefix(canon, "/scim/v2/")
	endpoint, id, _ := strings.Cut(rest, "/")
	var handler func(http.ResponseWriter, *http.Request) error
	switch {
	case endpoint == "Users" && id == "" && method == http.MethodPost:
		handler = h.CreateUser
	case endpoint == "Users" && id != "" && method == http.MethodPut:
		handler = h.ReplaceUser
	case endpoint == "Users" && id != "" && method == http.MethodPatch:
		handler = h.PatchUser
	case endpoint == "Users" && id != "" && method == http.MethodDelete:
		handler = h.DeleteUser
	case endpoint == "Groups" && id == "" && method == http.MethodPost:
		handler = h.CreateGroup
	case endpoint == "Groups" && id != "" && method == http.MethodPut:
		handler = h.ReplaceGroup
	case endpoint == "Groups" && id != "" && method == http.MethodPatch:
		handler = h.PatchGroup
	case endpoint == "Groups" && id != "" && method == http.MethodDelete:
		handler = h.DeleteGroup
	default:
		return bulkError(op, http.StatusBadRequest, "invalidValue", method+" "+op.Path+" is not a bulk operation")
	}
	sub, err := http.NewRequestWithContext(parent.Context(), method, canon, bytes.NewReader(data))
	if err != nil {
		return bulkError(op, http.StatusBadRequest, "invalidPath", "bad path "+op.Path)
	}
	sub.Header.Set("Content-Type", MediaType)
	if op.Version != "" {
		sub.Header.Set("If-Match", op.Version)
	}
	sub.SetPathValue("id", id)
	rec := httptest.NewRecorder()
	if err := handler(rec, sub); err != nil {
		WriteError(rec, err)
	}
	res := bulkResult{Method: method, BulkID: op.BulkID, Status: strconv.Itoa(rec.Code), Version: rec.Header().Get("ETag")}
	if loc := rec.Header().Get("Location"); loc != "" {
		res.Location = loc
	} else if id != "" && rec.Code < 300 {
		res.Location = h.location(endpoint, id)
	}
	if rec.Code >= 400 {
		res.Response = rec.Body.Bytes()
		return res
	}
	if method == http.MethodPost && op.BulkID != "" {
		var out struct {
			ID string `json:"id"`
		}
		if json.Unmarshal(rec.Body.Bytes(), &out) == nil && out.ID != "" {
			created[op.BulkID] = out.ID
		}
	}
	return res
}

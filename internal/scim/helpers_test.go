package scim_test

import "encoding/json"

func jsonNumber(s string) any { return json.Number(s) }

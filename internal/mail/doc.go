// Package mail sends the few emails Roster sends (console invitations) through the SMTP
// relay the operator configures. Without one, nothing is mailed and the console shows every
// link to copy.
package mail

package admin

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/crypto/bcrypt"

	"github.com/parleyhq/parley/internal/store"
)

// Roles a console user can have, in the order forms offer them.
var Roles = []string{"admin", "agent", "marketer"}

const maxUserName = 200

// CheckEmail normalises an email address (trimmed, lower case) or says why
// it is not one. The check is deliberately loose: the address is a login
// name, nothing is ever sent to it.
func CheckEmail(email string) (string, error) {
	email = strings.ToLower(strings.TrimSpace(email))
	if email == "" || !strings.Contains(email, "@") || strings.ContainsAny(email, " \t<>") {
		return "", invalid("email", "%q is not an email address", email)
	}
	return email, nil
}

// CheckRole says whether role is one of Roles.
func CheckRole(role string) error {
	if !slices.Contains(Roles, role) {
		return invalid("role", "%q must be one of %s", role, strings.Join(Roles, ", "))
	}
	return nil
}

func checkUserName(name string) (string, error) {
	name = strings.TrimSpace(name)
	if runeLen(name) > maxUserName {
		return "", invalid("name", "%d characters is too long (at most %d)", runeLen(name), maxUserName)
	}
	return name, nil
}

// brandIDs resolves the brand slugs a user is limited to. Admins see every
// brand whatever is listed, so their list is always empty: what the page
// shows is what applies.
func brandIDs(ctx context.Context, st *store.Store, role string, slugs []string) ([]int64, error) {
	if role == "admin" {
		return nil, nil
	}
	brands, err := st.Brands(ctx)
	if err != nil {
		return nil, err
	}
	var ids []int64
	for _, slug := range slugs {
		slug = strings.TrimSpace(slug)
		if slug == "" {
			continue
		}
		i := slices.IndexFunc(brands, func(b store.Brand) bool { return b.Slug == slug })
		if i < 0 {
			return nil, invalid("brand", "%q is not a brand", slug)
		}
		if !slices.Contains(ids, brands[i].ID) {
			ids = append(ids, brands[i].ID)
		}
	}
	return ids, nil
}

// LimitToBrands limits a user to the brands named by slugs (none: every
// brand; an admin always sees every brand). An unknown slug is a FieldError.
func LimitToBrands(ctx context.Context, st *store.Store, u store.User, slugs []string) error {
	ids, err := brandIDs(ctx, st, u.Role, slugs)
	if err != nil {
		return err
	}
	return st.SetUserBrands(ctx, u.ID, len(slugs) == 0, ids)
}

// Invite is a new console user as an admin describes them.
type Invite struct {
	Email, Name, Role string
	AllBrands         bool     // every brand, those added later too
	Brands            []string // otherwise the slugs the user is limited to (none: no brand)
}

// InviteUser creates a user with a random password, returned so that the
// admin can hand it over (no email is sent). An email that already has an
// account is a conflict: inviting never resets someone's password.
func InviteUser(ctx context.Context, st *store.Store, in Invite) (store.User, string, error) {
	email, err := CheckEmail(in.Email)
	if err != nil {
		return store.User{}, "", err
	}
	name, err := checkUserName(in.Name)
	if err != nil {
		return store.User{}, "", err
	}
	if err := CheckRole(in.Role); err != nil {
		return store.User{}, "", err
	}
	ids, err := brandIDs(ctx, st, in.Role, in.Brands)
	if err != nil {
		return store.User{}, "", err
	}
	password := NewPassword()
	hash, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.DefaultCost)
	if err != nil {
		return store.User{}, "", fmt.Errorf("admin: hash password: %w", err)
	}
	u, err := st.CreateUser(ctx, store.NewUser{Email: email, Name: name, PasswordHash: string(hash), Role: in.Role, AllBrands: in.AllBrands, BrandIDs: ids})
	if errors.Is(err, store.ErrEmailTaken) {
		return u, "", conflict("email", "%s already has an account", email)
	}
	if err != nil {
		return u, "", err
	}
	return u, password, nil
}

// UserUpdate is what an admin sets on an existing user; every field is
// written.
type UserUpdate struct {
	ID        int64
	Name      string
	Role      string
	AllBrands bool     // every brand, those added later too
	Brands    []string // otherwise only these slugs (none: no brand)
	Disabled  bool
	Capacity  string // open conversations assigned automatically at most; "" keeps it
}

// CheckCapacity reads a capacity: a whole number from 0 (never assigned
// automatically) to 1000.
func CheckCapacity(v string) (int, error) {
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || n < 0 || n > 1000 {
		return 0, invalid("capacity", "%q: a whole number from 0 (never assigned automatically) to 1000", v)
	}
	return n, nil
}

// UpdateUser changes a user's name, role, brands and whether they may sign
// in; disabling signs them out everywhere. actorID is the admin doing it:
// an admin may not disable or demote themself, so that an install always
// keeps an admin who can undo a mistake. An unknown user is
// store.ErrNotFound.
func UpdateUser(ctx context.Context, st *store.Store, actorID int64, in UserUpdate) (store.User, error) {
	name, err := checkUserName(in.Name)
	if err != nil {
		return store.User{}, err
	}
	if err := CheckRole(in.Role); err != nil {
		return store.User{}, err
	}
	if in.ID == actorID && in.Disabled {
		return store.User{}, invalid("disabled", "you cannot disable your own account; ask another admin")
	}
	if in.ID == actorID && in.Role != "admin" {
		return store.User{}, invalid("role", "you cannot take the admin role away from yourself; ask another admin")
	}
	ids, err := brandIDs(ctx, st, in.Role, in.Brands)
	if err != nil {
		return store.User{}, err
	}
	capacity := -1
	if strings.TrimSpace(in.Capacity) != "" {
		if capacity, err = CheckCapacity(in.Capacity); err != nil {
			return store.User{}, err
		}
	}
	u, err := st.UpdateUser(ctx, store.UserChange{ID: in.ID, Name: name, Role: in.Role, Disabled: in.Disabled, AllBrands: in.AllBrands, BrandIDs: ids})
	if err != nil || capacity < 0 {
		return u, err
	}
	return u, st.SetUserCapacity(ctx, in.ID, capacity)
}

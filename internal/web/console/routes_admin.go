package console

// adminRoutes lists the admin pages: users, brands and numbers, API keys,
// canned responses.
func (h *Handlers) adminRoutes() []Route {
	return nil
}

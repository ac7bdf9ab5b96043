package console

// accountRoutes lists what every signed-in user may do to their own account:
// password and presence.
func (h *Handlers) accountRoutes() []Route {
	return nil
}

package bus

// PendingBatches counts the batches p still has registered.
func PendingBatches(p *Publisher) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.batches)
}

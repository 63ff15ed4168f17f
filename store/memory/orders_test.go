package memory_test

import (
	"testing"

	"github.com/wxkit/wxkit/store/memory"
	"github.com/wxkit/wxkit/store/storetest"
)

func TestOrdersConformance(t *testing.T) {
	storetest.TestOrders(t, func(*testing.T) storetest.OrdersAndOutbox { return new(memory.Store) })
}

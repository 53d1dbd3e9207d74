//! The local copy of the watched objects, fed by list and watch events.
//!
//! Each watch (one object kind in one namespace, or cluster-wide) owns the objects of its
//! scope. A (re-)list replaces that scope wholesale, which is how objects deleted while
//! the watch was down (after a 410 Gone, say) disappear.

use std::collections::{BTreeMap, BTreeSet};

use k8s_openapi::api::core::v1::{Endpoints, Namespace, Node, Pod, Service};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use k8s_openapi::api::networking::v1::Ingress;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

/// The object kinds the roles watch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Kind {
    Node,
    Namespace,
    Pod,
    Service,
    Endpoints,
    EndpointSlice,
    Ingress,
}

impl Kind {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Kind::Node => "node",
            Kind::Namespace => "namespace",
            Kind::Pod => "pod",
            Kind::Service => "service",
            Kind::Endpoints => "endpoints",
            Kind::EndpointSlice => "endpointslice",
            Kind::Ingress => "ingress",
        }
    }

    pub(crate) fn cluster_scoped(self) -> bool {
        matches!(self, Kind::Node | Kind::Namespace)
    }
}

/// `(namespace, name)`; the namespace is empty for cluster-scoped objects.
pub(crate) type Key = (String, String);

/// One watched object.
#[derive(Debug, Clone)]
pub(crate) enum Obj {
    Node(Box<Node>),
    Namespace(Box<Namespace>),
    Pod(Box<Pod>),
    Service(Box<Service>),
    Endpoints(Box<Endpoints>),
    EndpointSlice(Box<EndpointSlice>),
    Ingress(Box<Ingress>),
}

impl Obj {
    fn meta(&self) -> &ObjectMeta {
        match self {
            Obj::Node(o) => &o.metadata,
            Obj::Namespace(o) => &o.metadata,
            Obj::Pod(o) => &o.metadata,
            Obj::Service(o) => &o.metadata,
            Obj::Endpoints(o) => &o.metadata,
            Obj::EndpointSlice(o) => &o.metadata,
            Obj::Ingress(o) => &o.metadata,
        }
    }

    pub(crate) fn kind(&self) -> Kind {
        match self {
            Obj::Node(_) => Kind::Node,
            Obj::Namespace(_) => Kind::Namespace,
            Obj::Pod(_) => Kind::Pod,
            Obj::Service(_) => Kind::Service,
            Obj::Endpoints(_) => Kind::Endpoints,
            Obj::EndpointSlice(_) => Kind::EndpointSlice,
            Obj::Ingress(_) => Kind::Ingress,
        }
    }

    pub(crate) fn key(&self) -> Key {
        let m = self.meta();
        let ns = if self.kind().cluster_scoped() {
            String::new()
        } else {
            m.namespace.clone().unwrap_or_default()
        };
        (ns, m.name.clone().unwrap_or_default())
    }
}

/// Objects by kind and key.
#[derive(Debug, Default)]
pub(crate) struct Cache {
    objects: BTreeMap<Kind, BTreeMap<Key, Obj>>,
}

macro_rules! getter {
    ($name:ident, $all:ident, $variant:ident, $ty:ty) => {
        pub(crate) fn $name(&self, ns: &str, name: &str) -> Option<&$ty> {
            match self.get(Kind::$variant, ns, name) {
                Some(Obj::$variant(o)) => Some(o),
                _ => None,
            }
        }

        #[allow(dead_code)]
        pub(crate) fn $all(&self) -> impl Iterator<Item = &$ty> {
            self.objects
                .get(&Kind::$variant)
                .into_iter()
                .flat_map(|m| m.values())
                .filter_map(|o| match o {
                    Obj::$variant(o) => Some(&**o),
                    _ => None,
                })
        }
    };
}

impl Cache {
    fn get(&self, kind: Kind, ns: &str, name: &str) -> Option<&Obj> {
        self.objects
            .get(&kind)
            .and_then(|m| m.get(&(ns.to_owned(), name.to_owned())))
    }

    getter!(node, nodes, Node, Node);
    getter!(namespace, namespaces, Namespace, Namespace);
    getter!(pod, pods, Pod, Pod);
    getter!(service, services, Service, Service);
    getter!(endpoints, all_endpoints, Endpoints, Endpoints);
    getter!(
        endpoint_slice,
        endpoint_slices,
        EndpointSlice,
        EndpointSlice
    );
    getter!(ingress, ingresses, Ingress, Ingress);

    /// The keys of one kind.
    pub(crate) fn keys(&self, kind: Kind) -> Vec<Key> {
        self.objects
            .get(&kind)
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default()
    }

    pub(crate) fn apply(&mut self, obj: Obj) -> Key {
        let key = obj.key();
        self.objects
            .entry(obj.kind())
            .or_default()
            .insert(key.clone(), obj);
        key
    }

    pub(crate) fn delete(&mut self, obj: &Obj) -> Key {
        let key = obj.key();
        if let Some(m) = self.objects.get_mut(&obj.kind()) {
            m.remove(&key);
        }
        key
    }

    /// Replaces the objects of `kind` in `scope` (a namespace, or all when `None`) by a
    /// fresh list; returns every key that was or is now present there.
    pub(crate) fn replace(
        &mut self,
        kind: Kind,
        scope: Option<&str>,
        fresh: Vec<Obj>,
    ) -> BTreeSet<Key> {
        let map = self.objects.entry(kind).or_default();
        let mut touched: BTreeSet<Key> = map
            .keys()
            .filter(|(ns, _)| scope.is_none_or(|s| s == ns))
            .cloned()
            .collect();
        for k in &touched {
            map.remove(k);
        }
        for o in fresh {
            let k = o.key();
            touched.insert(k.clone());
            map.insert(k, o);
        }
        touched
    }
}

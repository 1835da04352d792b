"""Seed the test cloud with waste and with resources in use, for reclaim
detection (called by `cloud.sh seed-reclaim`; opt-in, as it adds servers to
the fake computes that other tests count).

Writes STATE/reclaim-seed.json: the domain and its fallback contact, the
users and their e-mail, the projects and their owners, and every seeded
resource with its kind, project, owner e-mail and what reclaim should make
of it (`expected`: waste, in-use or exempt). Everything is made through the
APIs, as each project's own user, so owners and project ids are real.

The cloud cannot age anything: every resource is as old as the seed
(`seededAt`). Tests of "SHUTOFF for more than N days" use thresholds in
seconds, or a clock offset, from that time.

Standard library only, like seed.py, whose helpers it uses.
"""
import datetime
import json
import os
import sys
import time

import seed
from seed import (CINDER, CINDER_HEADERS, GLANCE, KEYSTONE, NEUTRON, NOVA, ApiError, call,
                  get_token, log, wait_for)

STATE = seed.STATE
NOVA_HEADERS = {'OpenStack-API-Version': 'compute 2.90'}  # tags on create (2.52)
KEEP = 'shipshape:keep'
DOMAIN = 'shipshape-reclaim'
FALLBACK_CONTACT = 'cloud-ops@example.org'
USER_PASSWORD = 'shipshape-user-secret'
EXTERNAL_NETWORK = 'public'

# Who is in which project with which roles; the project's owners are its
# users with the `owner` role. reclaim-delta has none: its contact is the
# domain's fallback.
USERS = {
    'alice': 'alice@example.org',
    'bob': 'bob@example.org',
    'carol': 'carol@example.org',
    'dave': 'dave@example.org',
}
PROJECTS = {
    'reclaim-alpha': {'seeder': 'alice', 'roles': {'alice': ['owner', 'member'], 'bob': ['member']}},
    'reclaim-beta': {'seeder': 'bob', 'roles': {'bob': ['owner', 'member']}},
    'reclaim-gamma': {'seeder': 'carol', 'roles': {'carol': ['owner', 'member']}, 'allWaste': True},
    'reclaim-delta': {'seeder': 'dave', 'roles': {'dave': ['member']}},
}


class Seeder:
    """Records what it makes, so the seed file is written from one place."""

    def __init__(self):
        self.admin = get_token()
        self.resources = []
        self.projects = {}  # name -> {'id', 'token', 'ownerEmail', ...}

    def record(self, kind, resource_id, name, project, expected, state, **extra):
        p = self.projects[project]
        self.resources.append({
            'kind': kind, 'id': resource_id, 'name': name, 'project': project, 'projectId': p['id'],
            'ownerEmail': p['contact'], 'expected': expected, 'state': state, **extra})

    # ---- identity -----------------------------------------------------------

    def identity(self):
        admin = self.admin
        _, found, _ = call('GET', f'{KEYSTONE}/domains?name={DOMAIN}', admin)
        if found['domains']:
            raise ApiError(f'domain {DOMAIN} exists: this cloud was already seeded for reclaim (restart it)')
        # Keystone keeps unknown attributes of a domain (its `extra`) and
        # returns them as top-level fields: contact_email is one.
        _, domain, _ = call('POST', f'{KEYSTONE}/domains', admin, {'domain': {
            'name': DOMAIN, 'contact_email': FALLBACK_CONTACT,
            'description': f'Reclaim test domain; fallback contact {FALLBACK_CONTACT}'}})
        self.domain = domain['domain']
        roles = {}
        for role in ('owner', 'member'):
            roles[role] = seed.find_or_create(admin, 'roles', 'role', f'name={role}', {'name': role})
        self.users = {}
        for name, email in USERS.items():
            _, user, _ = call('POST', f'{KEYSTONE}/users', admin, {'user': {
                'name': name, 'domain_id': self.domain['id'], 'password': USER_PASSWORD, 'email': email}})
            self.users[name] = user['user']['id']
        for name, spec in PROJECTS.items():
            _, project, _ = call('POST', f'{KEYSTONE}/projects', admin, {'project': {
                'name': name, 'domain_id': self.domain['id'], 'description': 'seeded for reclaim tests'}})
            project_id = project['project']['id']
            for user, user_roles in spec['roles'].items():
                for role in user_roles:
                    call('PUT', f"{KEYSTONE}/projects/{project_id}/users/{self.users[user]}/roles/{roles[role]}", admin)
            owners = [USERS[u] for u, r in spec['roles'].items() if 'owner' in r]
            self.projects[name] = {
                'id': project_id, 'owners': owners, 'contact': owners[0] if owners else FALLBACK_CONTACT,
                'contactFrom': 'owner' if owners else 'domain', 'allWaste': spec.get('allWaste', False),
                'token': self.user_token(spec['seeder'], name), 'seeder': spec['seeder']}
        log(f'reclaim: domain {DOMAIN}, {len(USERS)} users, {len(PROJECTS)} projects')

    def user_token(self, user, project):
        body = {'auth': {
            'identity': {'methods': ['password'], 'password': {'user': {
                'name': user, 'domain': {'name': DOMAIN}, 'password': USER_PASSWORD}}},
            'scope': {'project': {'name': project, 'domain': {'name': DOMAIN}}}}}
        _, _, headers = call('POST', f'{KEYSTONE}/auth/tokens', body=body)
        return headers['X-Subject-Token']

    # ---- images ---------------------------------------------------------------

    def image(self, project, name, tags=()):
        token = self.projects[project]['token']
        _, image, _ = call('POST', f'{GLANCE}/images', token, {
            'name': name, 'disk_format': 'raw', 'container_format': 'bare', 'visibility': 'private',
            'tags': list(tags)})
        call('PUT', f"{GLANCE}/images/{image['id']}/file", token, raw=bytes(1024))
        return image['id']

    # ---- servers --------------------------------------------------------------

    def boot(self, project, name, image, tags=()):
        body = {'server': {'name': name, 'flavorRef': self.flavor, 'imageRef': image, 'networks': 'none'}}
        if tags:
            body['server']['tags'] = list(tags)
        _, server, _ = call('POST', f'{NOVA}/servers', self.projects[project]['token'], body, headers=NOVA_HEADERS)
        return server['server']['id']

    def server_status(self, server_id):
        _, found, _ = call('GET', f'{NOVA}/servers/{server_id}', self.admin, headers=NOVA_HEADERS)
        server = found['server']
        if server['status'] == 'ERROR':
            raise ApiError(f"server {server['name']} in ERROR: {server.get('fault')}")
        return server['status'] if not server.get('OS-EXT-STS:task_state') else None

    def wait_servers(self, wanted, seconds=180):
        """wanted: {server id: status}."""
        def reached():
            return all(self.server_status(sid) == status for sid, status in wanted.items())
        wait_for(f'servers {sorted(set(wanted.values()))}', seconds, reached, interval=1)

    def act(self, project, server_id, action):
        call('POST', f'{NOVA}/servers/{server_id}/action', self.projects[project]['token'], {action: None},
             headers=NOVA_HEADERS)

    # ---- volumes --------------------------------------------------------------

    def volume(self, project, name, metadata=None):
        _, volume, _ = call('POST', f'{CINDER}/volumes', self.projects[project]['token'], {'volume': {
            'name': name, 'size': 1, 'metadata': metadata or {}}}, headers=CINDER_HEADERS)
        return volume['volume']['id']

    def volume_status(self, volume_id, collection='volumes', key='volume'):
        _, found, _ = call('GET', f'{CINDER}/{collection}/{volume_id}', self.admin, headers=CINDER_HEADERS)
        status = found[key]['status']
        if status.startswith('error'):
            raise ApiError(f'{key} {volume_id} is {status}')
        return status

    def wait_volumes(self, wanted, collection='volumes', key='volume'):
        def reached():
            return all(self.volume_status(vid, collection, key) == status for vid, status in wanted.items())
        wait_for(f'{collection} {sorted(set(wanted.values()))}', 120, reached)

    def snapshot(self, project, volume_id, name, metadata=None):
        _, snap, _ = call('POST', f'{CINDER}/snapshots', self.projects[project]['token'], {'snapshot': {
            'volume_id': volume_id, 'name': name, 'metadata': metadata or {}}}, headers=CINDER_HEADERS)
        return snap['snapshot']['id']

    def attach(self, project, server_id, volume_id):
        call('POST', f'{NOVA}/servers/{server_id}/os-volume_attachments', self.projects[project]['token'],
             {'volumeAttachment': {'volumeId': volume_id}}, headers=NOVA_HEADERS)

    # ---- networks -------------------------------------------------------------

    def external_network(self):
        admin = self.admin
        _, network, _ = call('POST', f'{NEUTRON}/networks', admin, {'network': {
            'name': EXTERNAL_NETWORK, 'router:external': True, 'shared': False,
            'provider:network_type': 'flat', 'provider:physical_network': EXTERNAL_NETWORK}})
        network_id = network['network']['id']
        call('POST', f'{NEUTRON}/subnets', admin, {'subnet': {
            'name': f'{EXTERNAL_NETWORK}-subnet', 'network_id': network_id, 'ip_version': 4,
            'cidr': '203.0.113.0/24', 'enable_dhcp': False}})
        return network_id

    def project_network(self, project, index, with_router):
        """A project's own network and subnet, routed to the external one when
        with_router (a floating IP can only be associated through a router)."""
        token = self.projects[project]['token']
        _, network, _ = call('POST', f'{NEUTRON}/networks', token, {'network': {'name': f'{project}-net'}})
        network_id = network['network']['id']
        _, subnet, _ = call('POST', f'{NEUTRON}/subnets', token, {'subnet': {
            'name': f'{project}-subnet', 'network_id': network_id, 'ip_version': 4,
            'cidr': f'10.{index}.0.0/24', 'enable_dhcp': False}})
        if with_router:
            _, router, _ = call('POST', f'{NEUTRON}/routers', token, {'router': {
                'name': f'{project}-router', 'external_gateway_info': {'network_id': self.public}}})
            call('PUT', f"{NEUTRON}/routers/{router['router']['id']}/add_router_interface", token,
                 {'subnet_id': subnet['subnet']['id']})
        return network_id

    def port(self, project, network_id, name, device=None):
        body = {'port': {'name': name, 'network_id': network_id}}
        if device:
            # The server's NIC as an API object: without mechanism drivers no
            # port is bound, so Nova cannot plug one; the device is set by hand.
            body['port'].update({'device_id': device, 'device_owner': 'compute:nova'})
        _, port, _ = call('POST', f'{NEUTRON}/ports', self.projects[project]['token'], body)
        return port['port']['id']

    def floating_ip(self, project, port_id=None, tags=()):
        token = self.projects[project]['token']
        body = {'floatingip': {'floating_network_id': self.public}}
        if port_id:
            body['floatingip']['port_id'] = port_id
        _, fip, _ = call('POST', f'{NEUTRON}/floatingips', token, body)
        fip_id = fip['floatingip']['id']
        for tag in tags:
            call('PUT', f'{NEUTRON}/floatingips/{fip_id}/tags/{tag}', token)
        return fip_id, fip['floatingip']['floating_ip_address']

    def tag_port(self, project, port_id, tag):
        call('PUT', f'{NEUTRON}/ports/{port_id}/tags/{tag}', self.projects[project]['token'])


def seed_reclaim():
    started = time.time()
    seeded_at = datetime.datetime.now(datetime.timezone.utc)
    s = Seeder()
    _, flavors, _ = call('GET', f'{NOVA}/flavors', s.admin, headers=NOVA_HEADERS)
    s.flavor = next(f['id'] for f in flavors['flavors'] if f['name'] == seed.FLAVOR)
    _, images, _ = call('GET', f'{GLANCE}/images?name={seed.IMAGE}', s.admin)
    base_image = images['images'][0]['id']
    s.identity()

    # Images first: a server boots from one of them.
    golden = s.image('reclaim-alpha', 'alpha-golden')
    alpha_old = s.image('reclaim-alpha', 'alpha-old')
    beta_kept = s.image('reclaim-beta', 'beta-kept', tags=[KEEP])
    gamma_image = s.image('reclaim-gamma', 'gamma-image')

    servers = {
        'alpha-web': s.boot('reclaim-alpha', 'alpha-web', golden),
        'alpha-stopped': s.boot('reclaim-alpha', 'alpha-stopped', base_image),
        'alpha-kept': s.boot('reclaim-alpha', 'alpha-kept', base_image, tags=[KEEP]),
        'beta-app': s.boot('reclaim-beta', 'beta-app', base_image),
        'beta-suspended': s.boot('reclaim-beta', 'beta-suspended', base_image),
        'beta-paused': s.boot('reclaim-beta', 'beta-paused', base_image),
        'beta-shelved': s.boot('reclaim-beta', 'beta-shelved', base_image),
        'gamma-old': s.boot('reclaim-gamma', 'gamma-old', base_image),
    }
    volumes = {
        'alpha-data': s.volume('reclaim-alpha', 'alpha-data'),
        'alpha-scratch': s.volume('reclaim-alpha', 'alpha-scratch'),
        'alpha-archive': s.volume('reclaim-alpha', 'alpha-archive', {KEEP: 'true'}),
        'beta-db': s.volume('reclaim-beta', 'beta-db'),
        'gamma-vol': s.volume('reclaim-gamma', 'gamma-vol'),
        'delta-vol': s.volume('reclaim-delta', 'delta-vol'),
    }
    s.public = s.external_network()
    nets = {
        'reclaim-alpha': s.project_network('reclaim-alpha', 1, with_router=True),
        'reclaim-beta': s.project_network('reclaim-beta', 2, with_router=False),
        'reclaim-gamma': s.project_network('reclaim-gamma', 3, with_router=False),
    }
    s.wait_servers({sid: 'ACTIVE' for sid in servers.values()})
    s.wait_volumes({vid: 'available' for vid in volumes.values()})
    log(f'reclaim: {len(servers)} servers ACTIVE, {len(volumes)} volumes available')

    for name, action in (('alpha-stopped', 'os-stop'), ('alpha-kept', 'os-stop'), ('gamma-old', 'os-stop'),
                         ('beta-suspended', 'suspend'), ('beta-paused', 'pause'), ('beta-shelved', 'shelve')):
        s.act('reclaim-' + name.split('-')[0], servers[name], action)
    s.attach('reclaim-alpha', servers['alpha-web'], volumes['alpha-data'])
    s.attach('reclaim-beta', servers['beta-app'], volumes['beta-db'])
    snapshots = {
        'alpha-scratch-snap': s.snapshot('reclaim-alpha', volumes['alpha-scratch'], 'alpha-scratch-snap'),
        'alpha-archive-snap': s.snapshot('reclaim-alpha', volumes['alpha-archive'], 'alpha-archive-snap',
                                         {KEEP: 'true'}),
        'gamma-vol-snap': s.snapshot('reclaim-gamma', volumes['gamma-vol'], 'gamma-vol-snap'),
    }
    web_nic = s.port('reclaim-alpha', nets['reclaim-alpha'], 'alpha-web-nic', device=servers['alpha-web'])
    ports = {
        'alpha-web-nic': web_nic,
        'alpha-spare-port': s.port('reclaim-alpha', nets['reclaim-alpha'], 'alpha-spare-port'),
        'beta-app-nic': s.port('reclaim-beta', nets['reclaim-beta'], 'beta-app-nic', device=servers['beta-app']),
        'beta-kept-port': s.port('reclaim-beta', nets['reclaim-beta'], 'beta-kept-port'),
        'gamma-port': s.port('reclaim-gamma', nets['reclaim-gamma'], 'gamma-port'),
    }
    s.tag_port('reclaim-beta', ports['beta-kept-port'], KEEP)
    fips = {
        'alpha-web-fip': s.floating_ip('reclaim-alpha', port_id=web_nic),
        'alpha-free-fip': s.floating_ip('reclaim-alpha'),
        'alpha-kept-fip': s.floating_ip('reclaim-alpha', tags=[KEEP]),
        'gamma-fip': s.floating_ip('reclaim-gamma'),
    }

    s.wait_servers({servers['alpha-stopped']: 'SHUTOFF', servers['alpha-kept']: 'SHUTOFF',
                    servers['gamma-old']: 'SHUTOFF', servers['beta-suspended']: 'SUSPENDED',
                    servers['beta-paused']: 'PAUSED', servers['beta-shelved']: 'SHELVED_OFFLOADED'})
    s.wait_volumes({volumes['alpha-data']: 'in-use', volumes['beta-db']: 'in-use'})
    s.wait_volumes({sid: 'available' for sid in snapshots.values()}, 'snapshots', 'snapshot')
    log('reclaim: servers stopped, suspended, paused and shelved; volumes attached; snapshots taken')

    # Shelving made an image of beta-shelved: unshelving needs it.
    _, shelved, _ = call('GET', f"{GLANCE}/images?name=beta-shelved-shelved&owner={s.projects['reclaim-beta']['id']}",
                         s.admin)
    shelve_image = shelved['images'][0]['id'] if shelved['images'] else None

    r = s.record
    r('server', servers['alpha-web'], 'alpha-web', 'reclaim-alpha', 'in-use', 'ACTIVE')
    r('server', servers['alpha-stopped'], 'alpha-stopped', 'reclaim-alpha', 'waste', 'SHUTOFF')
    r('server', servers['alpha-kept'], 'alpha-kept', 'reclaim-alpha', 'exempt', 'SHUTOFF', keep='tag')
    r('server', servers['beta-app'], 'beta-app', 'reclaim-beta', 'in-use', 'ACTIVE')
    r('server', servers['beta-suspended'], 'beta-suspended', 'reclaim-beta', 'waste', 'SUSPENDED')
    r('server', servers['beta-paused'], 'beta-paused', 'reclaim-beta', 'waste', 'PAUSED')
    r('server', servers['beta-shelved'], 'beta-shelved', 'reclaim-beta', 'waste', 'SHELVED_OFFLOADED')
    r('server', servers['gamma-old'], 'gamma-old', 'reclaim-gamma', 'waste', 'SHUTOFF')
    r('volume', volumes['alpha-data'], 'alpha-data', 'reclaim-alpha', 'in-use', 'in-use',
      attachedTo=servers['alpha-web'])
    r('volume', volumes['alpha-scratch'], 'alpha-scratch', 'reclaim-alpha', 'waste', 'available')
    r('volume', volumes['alpha-archive'], 'alpha-archive', 'reclaim-alpha', 'exempt', 'available', keep='metadata')
    r('volume', volumes['beta-db'], 'beta-db', 'reclaim-beta', 'in-use', 'in-use', attachedTo=servers['beta-app'])
    r('volume', volumes['gamma-vol'], 'gamma-vol', 'reclaim-gamma', 'waste', 'available')
    r('volume', volumes['delta-vol'], 'delta-vol', 'reclaim-delta', 'waste', 'available')
    r('snapshot', snapshots['alpha-scratch-snap'], 'alpha-scratch-snap', 'reclaim-alpha', 'waste', 'available',
      volumeId=volumes['alpha-scratch'])
    r('snapshot', snapshots['alpha-archive-snap'], 'alpha-archive-snap', 'reclaim-alpha', 'exempt', 'available',
      volumeId=volumes['alpha-archive'], keep='metadata')
    r('snapshot', snapshots['gamma-vol-snap'], 'gamma-vol-snap', 'reclaim-gamma', 'waste', 'available',
      volumeId=volumes['gamma-vol'])
    r('image', golden, 'alpha-golden', 'reclaim-alpha', 'in-use', 'active', usedBy=[servers['alpha-web']])
    r('image', alpha_old, 'alpha-old', 'reclaim-alpha', 'waste', 'active')
    r('image', beta_kept, 'beta-kept', 'reclaim-beta', 'exempt', 'active', keep='tag')
    r('image', gamma_image, 'gamma-image', 'reclaim-gamma', 'waste', 'active')
    if shelve_image:
        # The fake driver uploads no data: the image stays `queued`.
        r('image', shelve_image, 'beta-shelved-shelved', 'reclaim-beta', 'in-use', 'queued',
          usedBy=[servers['beta-shelved']], note='the shelved server unshelves from it')
    r('port', web_nic, 'alpha-web-nic', 'reclaim-alpha', 'in-use', 'device', deviceId=servers['alpha-web'])
    r('port', ports['alpha-spare-port'], 'alpha-spare-port', 'reclaim-alpha', 'waste', 'no-device')
    r('port', ports['beta-app-nic'], 'beta-app-nic', 'reclaim-beta', 'in-use', 'device',
      deviceId=servers['beta-app'])
    r('port', ports['beta-kept-port'], 'beta-kept-port', 'reclaim-beta', 'exempt', 'no-device', keep='tag')
    r('port', ports['gamma-port'], 'gamma-port', 'reclaim-gamma', 'waste', 'no-device')
    fip, address = fips['alpha-web-fip']
    r('floating_ip', fip, address, 'reclaim-alpha', 'in-use', 'associated', portId=web_nic)
    for name, project, expected, extra in (('alpha-free-fip', 'reclaim-alpha', 'waste', {}),
                                           ('alpha-kept-fip', 'reclaim-alpha', 'exempt', {'keep': 'tag'}),
                                           ('gamma-fip', 'reclaim-gamma', 'waste', {})):
        fip, address = fips[name]
        r('floating_ip', fip, address, project, expected, 'unassociated', **extra)

    result = {
        'seededAt': seeded_at.isoformat(timespec='seconds').replace('+00:00', 'Z'),
        'keepMarker': KEEP,
        'userPassword': USER_PASSWORD,
        'externalNetwork': {'id': s.public, 'name': EXTERNAL_NETWORK},
        'domain': {'id': s.domain['id'], 'name': DOMAIN, 'fallbackContact': FALLBACK_CONTACT,
                   'contactField': 'contact_email'},
        'users': [{'id': s.users[name], 'name': name, 'email': email} for name, email in USERS.items()],
        'projects': [{'id': p['id'], 'name': name, 'owners': p['owners'], 'contact': p['contact'],
                      'contactFrom': p['contactFrom'], 'allWaste': p['allWaste'], 'seededAs': p['seeder']}
                     for name, p in s.projects.items()],
        'resources': s.resources,
    }
    with open(os.path.join(STATE, 'reclaim-seed.json'), 'w') as out:
        json.dump(result, out, indent=2)
    log(f'reclaim: {len(s.resources)} resources seeded in {time.time() - started:.0f} s')


def main():
    try:
        seed_reclaim()
    except ApiError as error:
        log(f'reclaim seed failed: {error}')
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
